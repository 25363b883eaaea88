# scripts/gdb/nsdebug.gdb: debug uringnet's echo example under gdb (the seed's nsdebug).
#
# From the repository root:
#   gdb -x scripts/gdb/nsdebug.gdb
#   (gdb) nsdebug -addr 127.0.0.1:9000 -loops 1
# or in one go:  scripts/gdb/run -addr 127.0.0.1:9000
#
# nsdebug builds ./example/echo without optimisations or inlining, loads it, loads Go's
# runtime support for gdb, runs it with the given arguments (up to 6; or those of an
# earlier "set args"), and prints a backtrace when it stops (crash, signal, breakpoint).
# See scripts/gdb/README.md.

# Go writes to closed sockets as a matter of course (the kernel sends SIGPIPE; the runtime
# ignores it for non-stdout fds), and preempts goroutines with SIGURG many times a second.
# Neither should stop the debugger.
handle SIGPIPE nostop noprint pass
handle SIGURG nostop noprint pass
# Breakpoints on functions of the binary before it is loaded (e.g. "break netserver.(*Loop).run").
set breakpoint pending on
set print pretty on
set pagination off
set confirm off

define nsdebug
  shell go build -gcflags=all='-N -l' -o /tmp/uringnet-echo-debug ./example/echo
  # Go binaries name runtime-gdb.py in a .debug_gdb_scripts section, which gdb refuses
  # (with a long warning) unless GOROOT is a safe path; load it explicitly instead. gdb
  # cannot expand $(go env GOROOT) itself, so the shell writes the source line.
  set auto-load python-scripts off
  file /tmp/uringnet-echo-debug
  shell printf 'source %s/src/runtime/runtime-gdb.py\n' "$(go env GOROOT)" > /tmp/uringnet-gdb-runtime.gdb
  source /tmp/uringnet-gdb-runtime.gdb
  if $argc == 0
    run
  end
  if $argc == 1
    run $arg0
  end
  if $argc == 2
    run $arg0 $arg1
  end
  if $argc == 3
    run $arg0 $arg1 $arg2
  end
  if $argc == 4
    run $arg0 $arg1 $arg2 $arg3
  end
  if $argc == 5
    run $arg0 $arg1 $arg2 $arg3 $arg4
  end
  if $argc == 6
    run $arg0 $arg1 $arg2 $arg3 $arg4 $arg5
  end
  bt
end

document nsdebug
Build ./example/echo with -gcflags=all='-N -l' into /tmp/uringnet-echo-debug, load it with
Go's runtime support (info goroutines, goroutine N bt), run it with the arguments given
(up to 6, e.g. "nsdebug -addr 127.0.0.1:9000 -loops 1"; none: those of "set args"),
and print a backtrace when it stops. Run gdb from the repository root.
end

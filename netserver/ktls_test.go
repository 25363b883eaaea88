package netserver

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/uringnet/uringnet/internal/ktlstest"
	"golang.org/x/sys/unix"
)

// Kernel TLS tests. The kernel part needs the "tls" upper-layer protocol
// (CONFIG_TLS, or tls.ko and the crypto modules it asks for: gcm, ctr,
// ghash-generic, chacha20poly1305, chacha_generic, poly1305_generic); the
// VM step of scripts/test loads them into Debian's 6.1 kernel. Elsewhere
// these tests skip, saying why.

// needKernelTLS skips t unless the kernel does TLS and FeatKTLS is on.
func needKernelTLS(t testing.TB) {
	t.Helper()
	if err := ktlstest.Probe(); err != nil {
		t.Skip(err)
	}
	if f, err := ParseFeatures(os.Getenv(EnvDisable)); err == nil && f&FeatKTLS != 0 {
		t.Skipf("kernel TLS disabled by %s=%s", EnvDisable, os.Getenv(EnvDisable))
	}
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestKTLSKeySchedule checks expandLabel against RFC 8448 (section 3, the
// server's handshake traffic keys of the simple 1-RTT handshake), and the
// layout of the kernel's tls12_crypto_info_aes_gcm_128 built from them.
func TestKTLSKeySchedule(t *testing.T) {
	secret := unhex("b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38")
	wantKey := unhex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
	wantIV := unhex("5d 31 3e b2 67 12 76 ee 13 00 0b 30")
	key, err := expandLabel(sha256.New, secret, "key", 16)
	if err != nil || !bytes.Equal(key, wantKey) {
		t.Fatalf("key % x, %v; want % x", key, err, wantKey)
	}
	iv, err := expandLabel(sha256.New, secret, "iv", 12)
	if err != nil || !bytes.Equal(iv, wantIV) {
		t.Fatalf("iv % x, %v; want % x", iv, err, wantIV)
	}
	seq := [8]byte{0, 0, 0, 0, 0, 0, 1, 2}
	info, err := cryptoInfo(tls.TLS_AES_128_GCM_SHA256, secret, seq)
	if err != nil {
		t.Fatal(err)
	}
	// version 0x0304 and cipher 51 (little-endian u16s), iv[8], key[16], salt[4], rec_seq[8]
	want := append([]byte{0x04, 0x03, 51, 0}, wantIV[4:]...)
	want = append(append(append(want, wantKey...), wantIV[:4]...), seq[:]...)
	if !bytes.Equal(info, want) {
		t.Fatalf("crypto_info\n got % x\nwant % x", info, want)
	}
	// AES-256-GCM: 40 bytes of struct; ChaCha20-Poly1305: iv[12], key[32], rec_seq[8].
	for _, tc := range []struct {
		suite uint16
		n     int
	}{{tls.TLS_AES_256_GCM_SHA384, 4 + 8 + 32 + 4 + 8}, {tls.TLS_CHACHA20_POLY1305_SHA256, 4 + 12 + 32 + 8}} {
		info, err := cryptoInfo(tc.suite, make([]byte, 48), seq)
		if err != nil || len(info) != tc.n || !bytes.Equal(info[len(info)-8:], seq[:]) {
			t.Fatalf("suite %x: %d bytes, %v", tc.suite, len(info), err)
		}
	}
	if _, err := cryptoInfo(tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, secret, seq); err == nil {
		t.Fatal("a TLS 1.2 suite got a crypto_info")
	}
}

// TestKernelTLSRecords hands a socket the crypto_info of each suite and
// opens, in Go, the records the kernel seals (the AES-GCM suites; for
// ChaCha20-Poly1305, which the standard library does not export, only
// their framing is checked here and TestKernelTLSChaCha20 checks it end to
// end). A record sequence number that does not start at 0 is part of it.
func TestKernelTLSRecords(t *testing.T) {
	needKernelTLS(t)
	for _, tc := range []struct {
		name  string
		suite uint16
		h     func() hash.Hash
		key   int
	}{
		{"aes128gcm", tls.TLS_AES_128_GCM_SHA256, sha256.New, 16},
		{"aes256gcm", tls.TLS_AES_256_GCM_SHA384, sha512.New384, 32},
		{"chacha20poly1305", tls.TLS_CHACHA20_POLY1305_SHA256, sha256.New, 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret := make([]byte, tc.h().Size())
			rand.Read(secret)
			const firstSeq = 7
			var seq [8]byte
			binary.BigEndian.PutUint64(seq[:], firstSeq)
			info, err := cryptoInfo(tc.suite, secret, seq)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			cc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			sc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			raw, _ := sc.(*net.TCPConn).SyscallConn()
			var serr error
			raw.Control(func(fd uintptr) {
				if serr = unix.SetsockoptString(int(fd), unix.SOL_TCP, unix.TCP_ULP, "tls"); serr == nil {
					serr = setsockoptBytes(int(fd), solTLS, tlsTX, info)
				}
			})
			if serr != nil {
				t.Fatalf("setsockopt: %v", serr)
			}
			msg := make([]byte, 100<<10+3)
			rand.Read(msg)
			go func() {
				sc.Write(msg)
				sc.Close()
			}()
			cc.SetReadDeadline(time.Now().Add(20 * time.Second))
			wire, err := io.ReadAll(cc)
			if err != nil {
				t.Fatal(err)
			}
			var aead cipher.AEAD
			key, _ := expandLabel(tc.h, secret, "key", tc.key)
			iv, _ := expandLabel(tc.h, secret, "iv", 12)
			if tc.suite != tls.TLS_CHACHA20_POLY1305_SHA256 {
				block, _ := aes.NewCipher(key)
				aead, _ = cipher.NewGCM(block)
			}
			var got []byte
			records := 0
			for off := 0; off < len(wire); records++ {
				if len(wire)-off < 5 {
					t.Fatalf("a partial record header at %d", off)
				}
				hdr := wire[off : off+5]
				n := int(binary.BigEndian.Uint16(hdr[3:]))
				if hdr[0] != 0x17 || hdr[1] != 3 || hdr[2] != 3 || n > 16384+256 || off+5+n > len(wire) {
					t.Fatalf("record %d: header % x, %d bytes left", records, hdr, len(wire)-off-5)
				}
				body := wire[off+5 : off+5+n]
				off += 5 + n
				if aead == nil {
					got = append(got, make([]byte, n-17)...) // inner type byte and tag
					continue
				}
				nonce := append([]byte(nil), iv...)
				var sq [8]byte
				binary.BigEndian.PutUint64(sq[:], uint64(firstSeq+records))
				for i := range sq {
					nonce[4+i] ^= sq[i]
				}
				inner, err := aead.Open(nil, nonce, body, hdr)
				if err != nil {
					t.Fatalf("record %d (sequence number %d): %v", records, firstSeq+records, err)
				}
				inner = bytes.TrimRight(inner, "\x00")
				if len(inner) == 0 || inner[len(inner)-1] != 0x17 {
					t.Fatalf("record %d: inner content type not application data", records)
				}
				got = append(got, inner[:len(inner)-1]...)
			}
			if len(got) != len(msg) || (aead != nil && !bytes.Equal(got, msg)) {
				t.Fatalf("%d records opened to %d bytes (equal %v), sent %d", records, len(got), bytes.Equal(got, msg), len(msg))
			}
			t.Logf("%s: %d bytes in %d records sealed by the kernel", tc.name, len(msg), records)
		})
	}
}

// TestKernelTLSEcho echoes through a server whose records the kernel
// seals: small and large messages, many round trips on one connection,
// and a group, which is refused (with kernel TLS, a group's reads would
// take ciphertext, and the kernel refuses its sends' MSG_WAITALL).
func TestKernelTLSEcho(t *testing.T) {
	needKernelTLS(t)
	s, h, p := startTLS(t, Config{})
	h.onRead = func(data []byte, c ClientNum) bool {
		if string(data) != "group" {
			return false
		}
		g := h.s.NewGroup()
		g.QueueWrite(c, []byte("g1;"))
		g.QueueWritev(c, [][]byte{[]byte("g2;"), []byte("g3;")})
		if err := g.Submit(); err != nil {
			h.s.Send(c, []byte(err.Error()))
		}
		return true
	}
	echo := func(t *testing.T, c *tls.Conn, msg []byte) {
		t.Helper()
		errc := make(chan error, 1)
		go func() { _, err := c.Write(msg); errc <- err }()
		got := readFull(t, c, len(msg))
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("echo of %d bytes differs", len(msg))
		}
	}
	before := s.Stats().TLSKernelTX
	t.Run("sizes", func(t *testing.T) {
		c := dialTLS(t, s, p.ClientConfig())
		if st := c.ConnectionState(); st.Version != tls.VersionTLS13 {
			t.Fatalf("version %x", st.Version)
		}
		big := 3<<20 + 5
		if testing.Short() {
			big = 1<<20 + 5 // the VM runs it three times under TCG
		}
		for _, n := range []int{1, 100, 16384, 16385, 100 << 10, big} {
			msg := make([]byte, n)
			rand.Read(msg)
			echo(t, c, msg)
		}
	})
	t.Run("round-trips", func(t *testing.T) {
		c := dialTLS(t, s, p.ClientConfig())
		for i := range 100 {
			echo(t, c, fmt.Appendf(nil, "message %d", i))
		}
	})
	t.Run("group", func(t *testing.T) {
		c := dialTLS(t, s, p.ClientConfig())
		echo(t, c, []byte("first"))
		c.Write([]byte("group"))
		if got, want := readFull(t, c, len(ErrNotPlain.Error())), ErrNotPlain.Error(); string(got) != want {
			t.Fatalf("group: %q, want %q", got, want)
		}
		echo(t, c, []byte("after the group"))
	})
	st := s.Stats()
	t.Logf("stats: TLSKernelTX=%d TLSKernelTXFailed=%d TLSHandshakes=%d", st.TLSKernelTX, st.TLSKernelTXFailed, st.TLSHandshakes)
	if st.TLSKernelTX-before != 3 || st.TLSKernelTXFailed != 0 {
		t.Fatalf("kernel TLS on %d of 3 connections (%d refused)", st.TLSKernelTX-before, st.TLSKernelTXFailed)
	}
	// TLS 1.2 stays sealed in Go.
	cc := p.ClientConfig()
	cc.MaxVersion = tls.VersionTLS12
	echo(t, dialTLS(t, s, cc), []byte("tls 1.2"))
	if got := s.Stats().TLSKernelTX; got != st.TLSKernelTX {
		t.Fatalf("a TLS 1.2 connection counted as kernel TLS (%d -> %d)", st.TLSKernelTX, got)
	}
}

// envChaChaClient makes the test binary a TLS client of the address it
// names (TestKernelTLSChaCha20 runs it with GODEBUG=cpu.aes=off, which makes
// crypto/tls offer ChaCha20-Poly1305 first, and the server choose it).
const envChaChaClient = "URINGNET_TEST_KTLS_CLIENT"

// TestKernelTLSChaCha20 echoes through kernel TLS with ChaCha20-Poly1305,
// the client being this binary run again without AES.
func TestKernelTLSChaCha20(t *testing.T) {
	if addr := os.Getenv(envChaChaClient); addr != "" {
		chachaClient(t, addr)
		return
	}
	needKernelTLS(t)
	s, _, _ := startTLS(t, Config{})
	before := s.Stats().TLSKernelTX
	cmd := exec.Command(os.Args[0], "-test.run=^TestKernelTLSChaCha20$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envChaChaClient+"="+s.Addr().String(), "GODEBUG=cpu.aes=off")
	out, err := cmd.CombinedOutput()
	t.Logf("client: %s", bytes.TrimSpace(out))
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	if !bytes.Contains(out, []byte("suite TLS_CHACHA20_POLY1305_SHA256")) {
		t.Fatal("the client did not report ChaCha20-Poly1305")
	}
	if st := s.Stats(); st.TLSKernelTX != before+1 {
		t.Fatalf("kernel TLS not used: TLSKernelTX %d -> %d (refused %d)", before, st.TLSKernelTX, st.TLSKernelTXFailed)
	}
}

func chachaClient(t *testing.T, addr string) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr,
		&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}) // a test certificate of the parent process
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	suite := tls.CipherSuiteName(c.ConnectionState().CipherSuite)
	msg := make([]byte, 1<<20+11)
	rand.Read(msg)
	errc := make(chan error, 1)
	go func() { _, err := c.Write(msg); errc <- err }()
	got := readFull(t, c, len(msg))
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo differs")
	}
	t.Logf("suite %s: %d bytes echoed", suite, len(msg))
}

// TestKernelTLSWaitAll records why groups are refused to TLS clients even
// with kernel TLS: the kernel's TLS socket refuses a send's MSG_WAITALL,
// which a group's sends carry (io_uring resumes a short send only with it).
func TestKernelTLSWaitAll(t *testing.T) {
	needKernelTLS(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	info, _ := cryptoInfo(tls.TLS_AES_128_GCM_SHA256, make([]byte, 32), [8]byte{})
	raw, _ := sc.(*net.TCPConn).SyscallConn()
	var serr, werr error
	raw.Control(func(fd uintptr) {
		if serr = unix.SetsockoptString(int(fd), unix.SOL_TCP, unix.TCP_ULP, "tls"); serr == nil {
			if serr = setsockoptBytes(int(fd), solTLS, tlsTX, info); serr == nil {
				_, werr = unix.SendmsgN(int(fd), []byte("x"), nil, nil, unix.MSG_NOSIGNAL|unix.MSG_WAITALL|unix.MSG_DONTWAIT)
			}
		}
	})
	if serr != nil {
		t.Fatal(serr)
	}
	t.Logf("send(MSG_WAITALL) on a kernel TLS socket: %v", werr)
	if werr != unix.EOPNOTSUPP {
		t.Logf("this kernel takes MSG_WAITALL on a kernel TLS socket; groups could be allowed here")
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		check   func(o options) bool
	}{
		{nil, "", func(o options) bool {
			return o.addr == "127.0.0.1:8080" && o.root == "" && o.loops == 0 && o.logFormat == "text" &&
				o.logLevel == slog.LevelInfo && o.accessLog && o.bigFile == 32<<20 &&
				o.maxQueued == 256<<10 && o.maxMemory == 1<<30 && o.maxBuffered == 1<<20 && !o.stdlib &&
				o.tlsCert == "" && o.tlsKey == "" && !o.tlsSelfSigned && o.tlsMode() == "off" && o.scheme() == "http" &&
				o.handshakeTimeout == 0 && o.maxHandshakes == 0 && o.natsURL == "" && o.natsName == ""
		}},
		{[]string{"-nats", "nats://127.0.0.1:4222,nats://127.0.0.1:4223", "-nats-name", "demo-a"}, "", func(o options) bool {
			return o.natsURL == "nats://127.0.0.1:4222,nats://127.0.0.1:4223" && o.natsName == "demo-a"
		}},
		{[]string{"-nats-name", "demo-a"}, "-nats-name needs -nats", nil},
		{[]string{"-stdlib"}, "", func(o options) bool { return o.stdlib }},
		{[]string{"-http2=false"}, "", func(o options) bool { return o.noHTTP2 }},
		{[]string{"-http2"}, "", func(o options) bool { return !o.noHTTP2 }},
		{[]string{"-max-queued", "65536", "-max-memory", "-1", "-max-buffered", "32768"}, "", func(o options) bool {
			return o.maxQueued == 64<<10 && o.maxMemory == -1 && o.maxBuffered == 32<<10
		}},
		{[]string{"-addr", ":0", "-root", "/srv", "-loops", "2", "-log", "json", "-log-level", "debug",
			"-access-log=false", "-big-file", "100"}, "", func(o options) bool {
			return o.addr == ":0" && o.root == "/srv" && o.loops == 2 && o.logFormat == "json" &&
				o.logLevel == slog.LevelDebug && !o.accessLog && o.bigFile == 100
		}},
		{[]string{"-log-level", "WARN"}, "", func(o options) bool { return o.logLevel == slog.LevelWarn }},
		{[]string{"-log", "xml"}, "-log", nil},
		{[]string{"-log-level", "loud"}, "-log-level", nil},
		{[]string{"-loops", "-1"}, "negative", nil},
		{[]string{"-big-file", "-1"}, "negative", nil},
		{[]string{"-tls-cert", "c.pem", "-tls-key", "k.pem"}, "", func(o options) bool {
			return o.tlsCert == "c.pem" && o.tlsKey == "k.pem" && !o.tlsSelfSigned && o.tlsMode() == "files" && o.scheme() == "https"
		}},
		{[]string{"-tls-self-signed", "-stdlib"}, "", func(o options) bool {
			return o.tlsSelfSigned && o.stdlib && o.tlsCert == "" && o.tlsMode() == "self-signed" && o.scheme() == "https"
		}},
		{[]string{"-tls-self-signed=false"}, "", func(o options) bool { return o.tlsMode() == "off" }},
		{[]string{"-tls-self-signed", "-tls-handshake-timeout", "2s", "-tls-max-handshakes", "8"}, "", func(o options) bool {
			return o.handshakeTimeout == 2*time.Second && o.maxHandshakes == 8
		}},
		{[]string{"-tls-handshake-timeout", "-1s"}, "negative", nil},
		{[]string{"-tls-max-handshakes", "-1"}, "negative", nil},
		{[]string{"-tls-handshake-timeout", "soon"}, "invalid value", nil},
		{[]string{"-tls-cert", "c.pem"}, "-tls-cert and -tls-key go together", nil},
		{[]string{"-tls-key", "k.pem"}, "-tls-cert and -tls-key go together", nil},
		{[]string{"-tls-self-signed", "-tls-cert", "c.pem", "-tls-key", "k.pem"}, "exclude each other", nil},
		{[]string{"-tls-self-signed", "-tls-cert", "c.pem"}, "go together", nil},
		{[]string{"-tls-self-signed", "-tls-key", "k.pem"}, "go together", nil},
		{[]string{"-tls-cert", "", "-tls-key", "k.pem"}, "go together", nil},
		{[]string{"stray"}, "unexpected arguments", nil},
		{[]string{"-nope"}, "not defined", nil},
	} {
		var errOut bytes.Buffer
		o, err := parseFlags(tc.args, &errOut)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !tc.check(o) {
			t.Errorf("%q: %+v, %v", tc.args, o, err)
		}
	}
}

func TestUsage(t *testing.T) {
	var errOut bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &errOut)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"Usage:", "/metrics", "-addr address", "-access-log", "-log format", "-log-level level",
		"-root directory", "-loops", "-big-file bytes", "-stdlib", "/ws, /chat", "405", `(default "127.0.0.1:8080")`, "listening on ADDR",
		"-tls-cert file", "-tls-key file", "-tls-self-signed", "-tls-handshake-timeout time", "-tls-max-handshakes", "https://ADDR/",
		"-nats URL", "-nats-name name", "every instance"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, errOut.String())
		}
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	options{logFormat: "json", logOut: &buf}.logger().Info("hello", "n", 1)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "hello" || rec["n"] != 1.0 {
		t.Errorf("json log %q: %v", buf.String(), err)
	}
	buf.Reset()
	l := options{logFormat: "text", logLevel: slog.LevelWarn, logOut: &buf}.logger()
	l.Info("quiet")
	l.Warn("loud", "k", "v")
	if got := buf.String(); strings.Contains(got, "quiet") || !strings.Contains(got, "level=WARN msg=loud k=v") {
		t.Errorf("text log %q", got)
	}
	options{}.logger().Error("nowhere") // a nil logOut discards
}

package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

func TestWriteSelfSignedCert(t *testing.T) {
	dir := t.TempDir()
	c, err := WriteSelfSignedCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Fatalf("key is %T, want an ECDSA P-256 key", pair.PrivateKey)
	}
	b, _ := os.ReadFile(c.CertFile)
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.PublicKeyAlgorithm != x509.ECDSA || time.Until(cert.NotAfter) < time.Hour || time.Since(cert.NotBefore) < 0 {
		t.Errorf("certificate: %v, valid %v to %v", cert.PublicKeyAlgorithm, cert.NotBefore, cert.NotAfter)
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: c.Pool, DNSName: host}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}

	// A TLS server with the pair and the benchmark's client configuration: TLS 1.3 with
	// X25519, AES-128-GCM (Go's first choice with AES instructions), no resumption.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(tls.CipherSuiteName(r.TLS.CipherSuite)))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	for range 2 {
		conn, err := tls.Dial("tcp", ln.Addr().String(), ClientTLS(c.Pool))
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Handshake(); err != nil {
			t.Fatal(err)
		}
		cs := conn.ConnectionState()
		if cs.Version != tls.VersionTLS13 || cs.CurveID != tls.X25519 || cs.DidResume {
			t.Errorf("negotiated %s, resumed %v", TLSDescription(cs), cs.DidResume)
		}
		conn.Close()
	}
	tr := &http.Transport{TLSClientConfig: ClientTLS(nil), DialContext: (&net.Dialer{}).DialContext}
	resp, err := (&http.Client{Transport: tr}).Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "TLS_AES_128_GCM_SHA256" {
		t.Errorf("cipher suite %q", body)
	}
	if got := TLSDescription(tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256,
		CurveID: tls.X25519}); got != "TLS 1.3 TLS_AES_128_GCM_SHA256 X25519" {
		t.Errorf("TLSDescription = %q", got)
	}
}

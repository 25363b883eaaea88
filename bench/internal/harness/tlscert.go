package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TLSCert is a self-signed certificate written to disk for the TLS benchmarks: every
// server of a run loads the same one, so that each signs its handshakes with the same key
// (ECDSA P-256).
type TLSCert struct {
	CertFile, KeyFile string         // PEM files: the certificate and its PKCS #8 private key
	Pool              *x509.CertPool // holds the certificate, for clients that verify it
}

// WriteSelfSignedCert generates an ECDSA P-256 key and a self-signed certificate for
// 127.0.0.1, ::1 and localhost, valid from an hour ago for a day, and writes them to
// dir/cert.pem and dir/key.pem. The files are world-readable: nginx's workers may run as
// nobody (the master reads the key, but keep it simple).
func WriteSelfSignedCert(dir string) (TLSCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return TLSCert{}, fmt.Errorf("tls cert: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return TLSCert{}, fmt.Errorf("tls cert: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "uringnet bench", Organization: []string{"uringnet bench"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return TLSCert{}, fmt.Errorf("tls cert: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return TLSCert{}, fmt.Errorf("tls cert: %w", err)
	}
	c := TLSCert{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(c.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return TLSCert{}, fmt.Errorf("tls cert: %w", err)
	}
	if err := os.WriteFile(c.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o644); err != nil {
		return TLSCert{}, fmt.Errorf("tls cert: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return TLSCert{}, fmt.Errorf("tls cert: %w", err)
	}
	c.Pool = x509.NewCertPool()
	c.Pool.AddCert(cert)
	return c, nil
}

// ClientTLS returns the benchmark clients' TLS configuration: TLS 1.3 only, X25519 key
// exchange only (every peer supports it; Go's default would also offer the post-quantum
// hybrid, which OpenSSL 3.0's nginx does not know, so servers would differ in their key
// exchange), no session cache (every handshake is a full one), and the certificate checked
// against pool when pool is not nil.
func ClientTLS(pool *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		CurvePreferences:   []tls.CurveID{tls.X25519},
		RootCAs:            pool,
		ServerName:         "127.0.0.1",
		InsecureSkipVerify: pool == nil,
		NextProtos:         []string{"http/1.1"},
	}
}

// TLSDescription names what a handshake negotiated: "TLS 1.3 TLS_AES_128_GCM_SHA256 X25519".
func TLSDescription(cs tls.ConnectionState) string {
	s := tls.VersionName(cs.Version) + " " + tls.CipherSuiteName(cs.CipherSuite)
	if cs.CurveID != 0 {
		s += " " + cs.CurveID.String()
	}
	return s
}

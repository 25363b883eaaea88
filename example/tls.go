package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"time"
)

// HTTPS and WSS: with -tls-cert and -tls-key (or -tls-self-signed) every
// connection accepted on -addr speaks TLS. In native mode the tls.Config
// goes to http.Config.Net.TLS, in -stdlib mode to stdhttp.Server's
// TLSConfig; either way the handshake runs before the connection reaches
// HTTP, and the handlers, the WebSocket routes and the files see
// plaintext.

// selfSignedLifetime is how long a -tls-self-signed certificate is valid:
// it is made afresh at every start, so it need not last.
const selfSignedLifetime = 7 * 24 * time.Hour

// tlsMode says how the demo serves: "off", "files" (-tls-cert and
// -tls-key) or "self-signed".
func (o options) tlsMode() string {
	switch {
	case o.tlsSelfSigned:
		return "self-signed"
	case o.tlsCert != "":
		return "files"
	}
	return "off"
}

// scheme is the URL scheme of the demo's pages: https with TLS.
func (o options) scheme() string {
	if o.tlsMode() == "off" {
		return "http"
	}
	return "https"
}

// tlsConfig returns the server's TLS configuration as o asks for it, or
// nil without TLS: the certificate of -tls-cert and -tls-key, or a
// throwaway self-signed one made now (which log is warned about), TLS 1.2
// at least, and ALPN's h2 then http/1.1 (http/1.1 only with -http2=false:
// a client that offers h2 settles on HTTP/1.1 then). http.NewServer would
// put h2 first itself; saying it here keeps the demo's offer in one place.
func (o options) tlsConfig(log *slog.Logger) (*tls.Config, error) {
	var cert tls.Certificate
	switch o.tlsMode() {
	case "off":
		return nil, nil
	case "self-signed":
		hosts := selfSignedHosts(o.addr)
		var err error
		if cert, err = selfSignedCert(hosts, time.Now()); err != nil {
			return nil, fmt.Errorf("-tls-self-signed: %w", err)
		}
		sum := sha256.Sum256(cert.Leaf.Raw)
		log.Warn("tls: SELF-SIGNED THROWAWAY CERTIFICATE, made at start and never saved: "+
			"browsers and clients will not trust it (accept the warning, or use curl -k); "+
			"for anything but a quick look pass -tls-cert and -tls-key",
			"hosts", hosts, "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339),
			"sha256", hex.EncodeToString(sum[:]))
	default:
		var err error
		if cert, err = tls.LoadX509KeyPair(o.tlsCert, o.tlsKey); err != nil {
			return nil, fmt.Errorf("-tls-cert %s -tls-key %s: %w", o.tlsCert, o.tlsKey, err)
		}
		if cert.Leaf != nil && time.Now().After(cert.Leaf.NotAfter) {
			log.Warn("tls: the certificate has expired", "file", o.tlsCert,
				"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	protos := []string{"h2", "http/1.1"}
	if o.noHTTP2 {
		protos = []string{"http/1.1"}
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		NextProtos:   protos,
		Certificates: []tls.Certificate{cert},
	}, nil
}

// selfSignedHosts are the names a self-signed certificate is made for:
// localhost, 127.0.0.1 and ::1, and the host of addr when it names one
// (not a wildcard address).
func selfSignedHosts(addr string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return hosts
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.IsUnspecified() {
			return hosts
		}
		host = ip.String()
	}
	if !slices.Contains(hosts, host) {
		hosts = append(hosts, host)
	}
	return hosts
}

// selfSignedCert makes a certificate for hosts (DNS names or IP
// addresses), signed by its own new ECDSA P-256 key, valid from an hour
// before now (clock skew) for selfSignedLifetime. The key lives in memory
// only.
func selfSignedCert(hosts []string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"uringnet demo"}, CommonName: "uringnet demo (self-signed, throwaway)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

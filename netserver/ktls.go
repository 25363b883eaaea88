package netserver

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"hash"
	"reflect"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel TLS (Documentation/networking/tls.rst): after the handshake the
// socket gets the "tls" upper-layer protocol and the keys of the server's
// direction, and from then on the kernel seals what is sent into records,
// files by splice and sendfile included. Records are still opened in Go.
// Only TLS 1.3 is handed over: its traffic secret and record sequence
// number are all the kernel needs.

// The uapi values of include/uapi/linux/tls.h.
const (
	solTLS                = 282
	tlsTX                 = 1
	tls13Version          = 0x0304
	tlsCipherAESGCM128    = 51
	tlsCipherAESGCM256    = 52
	tlsCipherChaCha20Poly = 54
)

// enableKTLS hands c's sealing to the kernel, when it can take it. Called
// before the first byte of application data leaves, with nothing sealed
// in Go still queued.
func (l *loop) enableKTLS(cl *client) bool {
	if l.s.noKTLS.Load() {
		return false
	}
	info, err := ktlsInfo(cl.tls.conn)
	if err != nil {
		return false // a version or suite the kernel is not handed
	}
	fd := int(cl.fd)
	if err := unix.SetsockoptString(fd, unix.SOL_TCP, unix.TCP_ULP, "tls"); err != nil {
		if l.s.noKTLS.CompareAndSwap(false, true) {
			l.log.Info("netserver: kernel TLS unavailable; records are sealed in Go", "err", err)
		}
		return false
	}
	if err := setsockoptBytes(fd, solTLS, tlsTX, info); err != nil {
		// The ULP is set but takes no key: the socket still sends plain
		// bytes as they are, so sealing in Go goes on.
		l.s.tlsCnt.kernelTXFailed.Add(1)
		l.log.Debug("netserver: kernel TLS refused the key; sealing in Go", "err", err)
		return false
	}
	cl.tls.ktx = true
	l.s.tlsCnt.kernelTX.Add(1)
	return true
}

func setsockoptBytes(fd, level, opt int, b []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	if e != 0 {
		return e
	}
	return nil
}

var errNoKTLS = errors.New("netserver: kernel TLS: not for this connection")

// ktlsInfo builds the kernel's tls12_crypto_info_* for the server's
// direction of a TLS 1.3 connection: the write key and IV derived from the
// current traffic secret (RFC 8446, section 7.3), and the next record
// sequence number.
func ktlsInfo(conn *tls.Conn) ([]byte, error) {
	st := conn.ConnectionState()
	if st.Version != tls.VersionTLS13 {
		return nil, errNoKTLS
	}
	var (
		cipherType uint16
		keyLen     int
		h          func() hash.Hash
	)
	switch st.CipherSuite {
	case tls.TLS_AES_128_GCM_SHA256:
		cipherType, keyLen, h = tlsCipherAESGCM128, 16, sha256.New
	case tls.TLS_AES_256_GCM_SHA384:
		cipherType, keyLen, h = tlsCipherAESGCM256, 32, sha512.New384
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		cipherType, keyLen, h = tlsCipherChaCha20Poly, 32, sha256.New
	default:
		return nil, errNoKTLS
	}
	secret, seq, ok := writeSecret(conn)
	if !ok {
		return nil, errNoKTLS
	}
	key, err := expandLabel(h, secret, "key", keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(h, secret, "iv", 12)
	if err != nil {
		return nil, err
	}
	b := binary.LittleEndian.AppendUint16(nil, tls13Version)
	b = binary.LittleEndian.AppendUint16(b, cipherType)
	if cipherType == tlsCipherChaCha20Poly {
		b = append(b, iv...) // iv[12], key[32], no salt
		b = append(b, key...)
	} else {
		b = append(b, iv[4:]...) // iv[8], key, salt[4]
		b = append(b, key...)
		b = append(b, iv[:4]...)
	}
	return append(b, seq[:]...), nil // rec_seq[8], big-endian as on the wire
}

// expandLabel is HKDF-Expand-Label (RFC 8446, section 7.1) with an empty
// context.
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) ([]byte, error) {
	info := binary.BigEndian.AppendUint16(nil, uint16(n))
	info = append(info, byte(len("tls13 ")+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	return hkdf.Expand(h, secret, string(info), n)
}

// writeSecret reads the current write traffic secret and sequence number
// of conn. crypto/tls keeps both unexported (Conn.out.trafficSecret and
// Conn.out.seq); reflect reads them without unsafe, and ok is false when
// a Go release has moved them, which turns kernel TLS off rather than
// breaking anything.
func writeSecret(conn *tls.Conn) (secret []byte, seq [8]byte, ok bool) {
	out := reflect.ValueOf(conn).Elem().FieldByName("out")
	if !out.IsValid() || out.Kind() != reflect.Struct {
		return nil, seq, false
	}
	ts, sq := out.FieldByName("trafficSecret"), out.FieldByName("seq")
	if !ts.IsValid() || ts.Kind() != reflect.Slice || ts.Type().Elem().Kind() != reflect.Uint8 ||
		!sq.IsValid() || sq.Kind() != reflect.Array || sq.Len() != 8 {
		return nil, seq, false
	}
	secret = append([]byte(nil), ts.Bytes()...)
	for i := range seq {
		seq[i] = byte(sq.Index(i).Uint())
	}
	return secret, seq, len(secret) > 0
}

package sasl

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
)

// Channel binding type names (RFC 5056 registry) as they appear in the SCRAM
// gs2 header and in XEP-0440 advertisements.
const (
	bindingTLSExporter       = "tls-exporter"
	bindingTLSServerEndPoint = "tls-server-end-point"
)

// exporterLabel and exporterLength are the RFC 9266 §2 keying material parameters.
const (
	exporterLabel  = "EXPORTER-Channel-Binding"
	exporterLength = 32
)

// ChannelBinding holds the data for the connection's TLS channel, empty when
// not on TLS or unavailable.
type ChannelBinding struct {
	TLSExporter       []byte // RFC 9266: ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32); only for TLS 1.3
	TLSServerEndPoint []byte // RFC 5929: hash of the server certificate
}

// Types returns the channel binding types with data, strongest first, for the
// XEP-0440 advertisement: "tls-exporter", then "tls-server-end-point".
func (cb ChannelBinding) Types() []string {
	var types []string
	if len(cb.TLSExporter) > 0 {
		types = append(types, bindingTLSExporter)
	}
	if len(cb.TLSServerEndPoint) > 0 {
		types = append(types, bindingTLSServerEndPoint)
	}
	return types
}

// data returns the binding data for the type name, or nil if there is none.
func (cb ChannelBinding) data(name string) []byte {
	switch name {
	case bindingTLSExporter:
		return cb.TLSExporter
	case bindingTLSServerEndPoint:
		return cb.TLSServerEndPoint
	}
	return nil
}

// BindingFromTLS fills a ChannelBinding from a server-side
// tls.ConnectionState whose handshake is complete. It sets TLSExporter on TLS
// 1.3 connections only (RFC 9266 §3 rules it out for TLS 1.2 without the
// extended master secret, which Go cannot promise to the peer).
//
// A server-side connection state does not carry the server's own certificate,
// so TLSServerEndPoint stays empty; the caller, who knows the certificate it
// served, sets it with TLSServerEndPoint(leaf).
func BindingFromTLS(cs *tls.ConnectionState) ChannelBinding {
	return ChannelBinding{TLSExporter: exporter(cs)}
}

// ClientBindingFromTLS fills a ChannelBinding from a client-side
// tls.ConnectionState whose handshake is complete: TLSExporter as in
// BindingFromTLS, and TLSServerEndPoint from the certificate the server
// presented. It is for clients such as Client.
func ClientBindingFromTLS(cs *tls.ConnectionState) ChannelBinding {
	cb := ChannelBinding{TLSExporter: exporter(cs)}
	if cs != nil && len(cs.PeerCertificates) > 0 {
		cb.TLSServerEndPoint = TLSServerEndPoint(cs.PeerCertificates[0])
	}
	return cb
}

// exporter returns the tls-exporter binding data of cs, or nil.
func exporter(cs *tls.ConnectionState) []byte {
	if cs == nil || !cs.HandshakeComplete || cs.Version != tls.VersionTLS13 {
		return nil
	}
	b, err := cs.ExportKeyingMaterial(exporterLabel, nil, exporterLength)
	if err != nil {
		return nil
	}
	return b
}

// TLSServerEndPoint returns the RFC 5929 §4.1 tls-server-end-point binding
// data of a server certificate: its DER hashed with the hash of its signature
// algorithm, where MD5 and SHA-1 are replaced by SHA-256. It returns nil when
// the binding is undefined for the certificate: for a nil certificate and for
// signatures without a single hash, such as Ed25519.
func TLSServerEndPoint(cert *x509.Certificate) []byte {
	if cert == nil {
		return nil
	}
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.DSAWithSHA256, x509.ECDSAWithSHA256:
		sum := sha256.Sum256(cert.Raw)
		return sum[:]
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		sum := sha512.Sum384(cert.Raw)
		return sum[:]
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		sum := sha512.Sum512(cert.Raw)
		return sum[:]
	}
	return nil
}

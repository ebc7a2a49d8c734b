package sasl

import (
	"errors"
	"slices"
	"testing"
)

func TestMechanisms(t *testing.T) {
	both := ChannelBinding{TLSExporter: []byte("e"), TLSServerEndPoint: []byte("s")}
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{name: "plaintext", want: []string{"SCRAM-SHA-256", "SCRAM-SHA-1"}},
		{name: "TLS without binding", cfg: Config{TLS: true}, want: []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}},
		{name: "TLS with binding", cfg: Config{TLS: true, Binding: both},
			want: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}},
		{name: "end-point only", cfg: Config{TLS: true, Binding: ChannelBinding{TLSServerEndPoint: []byte("s")}},
			want: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.Mechanisms(); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStart(t *testing.T) {
	store := memStore{}
	binding := ChannelBinding{TLSExporter: []byte("e")}
	for _, tc := range []struct {
		name     string
		cfg      Config
		mech     string
		wantCond string
		wantErr  error
	}{
		{name: "SCRAM-SHA-256", cfg: Config{Store: store, Secret: testSecret}, mech: "SCRAM-SHA-256"},
		{name: "SCRAM-SHA-1", cfg: Config{Store: store, Secret: testSecret}, mech: "SCRAM-SHA-1"},
		{name: "PLUS offered", cfg: Config{Store: store, Secret: testSecret, TLS: true, Binding: binding}, mech: "SCRAM-SHA-1-PLUS"},
		{name: "PLAIN on TLS", cfg: Config{Store: store, TLS: true}, mech: "PLAIN"},
		{name: "unknown", cfg: Config{Store: store, Secret: testSecret}, mech: "DIGEST-MD5", wantCond: condInvalidMechanism},
		{name: "wrong case", cfg: Config{Store: store, Secret: testSecret}, mech: "scram-sha-256", wantCond: condInvalidMechanism},
		{name: "empty", cfg: Config{Store: store, Secret: testSecret}, mech: "", wantCond: condInvalidMechanism},
		{name: "PLUS not offered", cfg: Config{Store: store, Secret: testSecret, TLS: true}, mech: "SCRAM-SHA-256-PLUS", wantCond: condInvalidMechanism},
		{name: "PLAIN without TLS", cfg: Config{Store: store}, mech: "PLAIN", wantCond: condEncryptionRequired},
		{name: "no store", cfg: Config{Secret: testSecret}, mech: "SCRAM-SHA-256", wantCond: condTemporaryAuthFailure, wantErr: errNoStore},
		{name: "no secret", cfg: Config{Store: store}, mech: "SCRAM-SHA-256", wantCond: condTemporaryAuthFailure, wantErr: errNoSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.cfg.Start(tc.mech)
			checkCondition(t, err, tc.wantCond)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want it to wrap %v", err, tc.wantErr)
			}
			if err == nil && n.Mechanism() != tc.mech {
				t.Fatalf("got mechanism %q, want %q", n.Mechanism(), tc.mech)
			}
			if err != nil && n != nil {
				t.Fatalf("got a negotiation with error %v, want nil", err)
			}
		})
	}
}

func TestError(t *testing.T) {
	cause := errors.New("disk on fire")
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{err: &Error{Condition: "not-authorized"}, want: "sasl: not-authorized"},
		{err: &Error{Condition: "malformed-request", Text: "bad nonce"}, want: "sasl: malformed-request: bad nonce"},
		{err: &Error{Condition: "temporary-auth-failure", Err: cause}, want: "sasl: temporary-auth-failure: disk on fire"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
		if got := tc.err.Unwrap(); got != tc.err.Err {
			t.Errorf("got Unwrap %v, want %v", got, tc.err.Err)
		}
	}
}

func TestHashString(t *testing.T) {
	for _, tc := range []struct {
		h    Hash
		want string
	}{
		{SHA1, "SHA-1"},
		{SHA256, "SHA-256"},
		{0, "Hash(0)"},
		{9, "Hash(9)"},
	} {
		if got := tc.h.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

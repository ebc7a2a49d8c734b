package sasl

import (
	"bytes"
	"testing"
)

func TestNewKeys(t *testing.T) {
	for _, tc := range []struct {
		name       string
		h          Hash
		password   string
		iterations int
		wantErr    bool
	}{
		{name: "SHA-256", h: SHA256, password: "pencil", iterations: testIterations},
		{name: "SHA-1", h: SHA1, password: "pencil", iterations: testIterations},
		{name: "non-ASCII", h: SHA256, password: "Ünïcødé pässwörd", iterations: 1},
		{name: "empty password", h: SHA256, password: "", iterations: testIterations, wantErr: true},
		{name: "control character", h: SHA256, password: "pen\u0007cil", iterations: testIterations, wantErr: true},
		{name: "zero iterations", h: SHA256, password: "pencil", iterations: 0, wantErr: true},
		{name: "unknown hash", h: 0, password: "pencil", iterations: testIterations, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := NewKeys(tc.h, tc.password, tc.iterations)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if len(k.Salt) != saltBytes || k.Iterations != tc.iterations ||
				len(k.StoredKey) != tc.h.size() || len(k.ServerKey) != tc.h.size() {
				t.Fatalf("got salt %d bytes, %d iterations, keys %d and %d bytes; want %d, %d, %d",
					len(k.Salt), k.Iterations, len(k.StoredKey), len(k.ServerKey), saltBytes, tc.iterations, tc.h.size())
			}
			if !k.VerifyPassword(tc.h, tc.password) {
				t.Fatal("got VerifyPassword false for the password, want true")
			}
			other, err := NewKeys(tc.h, tc.password, tc.iterations)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(k.Salt, other.Salt) || bytes.Equal(k.StoredKey, other.StoredKey) {
				t.Fatal("got the same salt or stored key twice, want fresh salts")
			}
		})
	}
}

func TestVerifyPassword(t *testing.T) {
	k, err := NewKeys(SHA256, "pencil\u00a0case", testIterations)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		keys     Keys
		h        Hash
		password string
		want     bool
	}{
		{name: "right", keys: k, h: SHA256, password: "pencil\u00a0case", want: true},
		{name: "prepared equal", keys: k, h: SHA256, password: "pencil case", want: true},
		{name: "wrong", keys: k, h: SHA256, password: "pencil", want: false},
		{name: "case differs", keys: k, h: SHA256, password: "Pencil case", want: false},
		{name: "fails preparation", keys: k, h: SHA256, password: "", want: false},
		{name: "other hash", keys: k, h: SHA1, password: "pencil case", want: false},
		{name: "no keys", keys: Keys{}, h: SHA256, password: "pencil case", want: false},
		{name: "no iterations", keys: Keys{Salt: k.Salt, StoredKey: k.StoredKey, ServerKey: k.ServerKey}, h: SHA256, password: "pencil case", want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.keys.VerifyPassword(tc.h, tc.password); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFakeKeys(t *testing.T) {
	a := fakeKeys(SHA256, testSecret, "romeo", testIterations)
	for _, tc := range []struct {
		name     string
		keys     Keys
		sameSalt bool
	}{
		{name: "same user", keys: fakeKeys(SHA256, testSecret, "romeo", testIterations), sameSalt: true},
		{name: "other user", keys: fakeKeys(SHA256, testSecret, "mercutio", testIterations)},
		{name: "other hash", keys: fakeKeys(SHA1, testSecret, "romeo", testIterations)},
		{name: "other secret", keys: fakeKeys(SHA256, []byte("another secret"), "romeo", testIterations)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bytes.Equal(a.Salt, tc.keys.Salt); got != tc.sameSalt {
				t.Fatalf("got same salt %v, want %v", got, tc.sameSalt)
			}
			if len(tc.keys.Salt) != saltBytes {
				t.Fatalf("got %d bytes of salt, want %d", len(tc.keys.Salt), saltBytes)
			}
		})
	}
}

package jwe

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeyWrapRFC3394 checks every test vector of RFC 3394 §4.
func TestKeyWrapRFC3394(t *testing.T) {
	const (
		kek128 = "000102030405060708090A0B0C0D0E0F"
		kek192 = "000102030405060708090A0B0C0D0E0F1011121314151617"
		kek256 = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
		data16 = "00112233445566778899AABBCCDDEEFF"
		data24 = "00112233445566778899AABBCCDDEEFF0001020304050607"
		data32 = "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F"
	)
	tests := []struct {
		name, kek, data, want string
	}{
		{name: "4.1 128-bit KEK, 128-bit key", kek: kek128, data: data16, want: "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5"},
		{name: "4.2 192-bit KEK, 128-bit key", kek: kek192, data: data16, want: "96778B25AE6CA435 F92B5B97C050AED2 468AB8A17AD84E5D"},
		{name: "4.3 256-bit KEK, 128-bit key", kek: kek256, data: data16, want: "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7"},
		{name: "4.4 192-bit KEK, 192-bit key", kek: kek192, data: data24, want: "031D33264E15D332 68F24EC260743EDC E1C6C7DDEE725A93 6BA814915C6762D2"},
		{name: "4.5 256-bit KEK, 192-bit key", kek: kek256, data: data24, want: "A8F9BC1612C68B3F F6E6F4FBE30E71E4 769C8B80A32CB895 8CD5D17D6B254DA1"},
		{name: "4.6 256-bit KEK, 256-bit key", kek: kek256, data: data32, want: "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kek, data, want := unhex(t, tc.kek), unhex(t, tc.data), unhex(t, tc.want)
			got, err := wrapKey(kek, data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("wrapKey = %X, want %X", got, want)
			}
			back, err := unwrapKey(kek, want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, data) {
				t.Errorf("unwrapKey = %X, want %X", back, data)
			}
		})
	}
}

func TestUnwrapRefusesTampering(t *testing.T) {
	kek := unhex(t, "000102030405060708090A0B0C0D0E0F")
	wrapped := unhex(t, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
	for i := range wrapped {
		bad := bytes.Clone(wrapped)
		bad[i] ^= 0x01
		if _, err := unwrapKey(kek, bad); !errors.Is(err, errUnwrap) {
			t.Fatalf("flipped byte %d: err = %v, want errUnwrap", i, err)
		}
	}
	wrongKEK := bytes.Clone(kek)
	wrongKEK[0] ^= 1
	if _, err := unwrapKey(wrongKEK, wrapped); !errors.Is(err, errUnwrap) {
		t.Fatalf("wrong KEK: err = %v, want errUnwrap", err)
	}
}

func TestKeyWrapRefusesBadLengths(t *testing.T) {
	kek := make([]byte, 16)
	for _, n := range []int{0, 8, 15, 17} {
		if _, err := wrapKey(kek, make([]byte, n)); err == nil {
			t.Errorf("wrapKey(%d bytes) succeeded, want error", n)
		}
	}
	for _, n := range []int{0, 16, 23, 25} {
		if _, err := unwrapKey(kek, make([]byte, n)); err == nil {
			t.Errorf("unwrapKey(%d bytes) succeeded, want error", n)
		}
	}
	if _, err := wrapKey(make([]byte, 15), make([]byte, 16)); err == nil {
		t.Error("wrapKey with a 15-byte KEK succeeded, want error")
	}
}

package domain

import (
	"net/netip"
	"testing"
)

func TestInternalAddress(t *testing.T) {
	for addr, internal := range map[string]bool{
		"127.0.0.1": true, "10.0.0.1": true, "172.31.255.255": true, "192.168.1.1": true, "169.254.169.254": true,
		"0.0.0.0": true, "100.64.0.1": true, "255.255.255.255": true, "224.0.0.1": true, "::1": true, "::": true,
		"fe80::1": true, "fd00::1": true, "::ffff:127.0.0.1": true, "::127.0.0.1": true, "64:ff9b::a00:1": true,
		"2002:7f00:1::": true, "ff02::1": true,
		"8.8.8.8": false, "77.88.8.8": false, "172.32.0.1": false, "2a02:6b8::2:242": false, "::ffff:8.8.8.8": false,
	} {
		if got := InternalAddress(netip.MustParseAddr(addr)); got != internal {
			t.Errorf("%s: internal %v, want %v", addr, got, internal)
		}
	}
	for _, u := range []string{"http://127.1/", "http://0x7f000001/", "http://017700000001/", "http://LOCALHOST./"} {
		if checkWebhookURL(u, false) == nil {
			t.Errorf("%s accepted", u)
		}
		if checkWebhookURL(u, true) != nil {
			t.Errorf("%s refused with internal addresses allowed", u)
		}
	}
}

package domain

import (
	"encoding/base64"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Webhook URLs are set by an admin and dialled by the worker from inside the network, so a URL
// pointing inside (Redis on loopback, the cloud's metadata service, a database on a private
// address) would let a webhook reach what the internet cannot. Such addresses are refused when
// the URL is set and again when the worker dials, after DNS resolution, unless
// WEBHOOK_ALLOW_PRIVATE says this is a development or test setup.

// privateNets are the ranges a webhook may not reach besides what netip classifies itself:
// "this network", carrier-grade NAT, IETF protocol assignments, benchmarking, reserved and
// broadcast, and the IPv6 forms that carry an IPv4 address (IPv4-compatible, NAT64, 6to4).
var privateNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// InternalAddress reports whether an address is loopback, private, link-local, unspecified,
// multicast or otherwise not a public unicast address.
func InternalAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range privateNets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// internalHost reports whether a URL's host is an internal address or a name that always
// means this machine. Other names are checked when the worker dials them.
func internalHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if ip, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return InternalAddress(ip)
	}
	// Forms net/netip refuses but resolvers may accept (2130706433, 0x7f.1, 127.1): no
	// webhook needs them, so they are refused whatever they mean.
	for _, label := range strings.Split(h, ".") {
		if _, err := strconv.ParseUint(label, 0, 32); err != nil {
			return false
		}
	}
	return true
}

// checkWebhookURL is the webhook URL's rule: http(s), a host, at most 2000 characters, and
// (unless allowInternal) not an internal address.
func checkWebhookURL(raw string, allowInternal bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || len(raw) > 2000 {
		return Invalid("webhook.url", "must be an http(s) URL")
	}
	if u.User != nil {
		return Invalid("webhook.url", "must not carry a user name or password: the webhook secret signs each delivery")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return Invalid("webhook.url", "has port %s; a port is between 1 and 65535", p)
		}
	}
	if !allowInternal && internalHost(u.Hostname()) {
		return Invalid("webhook.url", "points to a loopback, private or link-local address; a webhook must be reachable on the internet (WEBHOOK_ALLOW_PRIVATE=true allows it in development)")
	}
	return nil
}

// WebhookSecretPrefix marks a secret in the Standard Webhooks form: "whsec_" and the base64 of
// the key's bytes (jobs.SigningKey reads it).
const WebhookSecretPrefix = "whsec_"

// minWebhookKey is the shortest signing key, in characters of a raw secret or bytes of a
// whsec_ one.
const minWebhookKey = 16

// checkWebhookSecret is the secret's rule: at most 200 characters; a raw secret of at least 16
// characters, or "whsec_" and valid base64 of at least 16 bytes (a whsec_ secret that is not
// base64 would silently be signed with as a raw one).
func checkWebhookSecret(secret string) error {
	if utf8.RuneCountInString(secret) > 200 {
		return Invalid("webhook.secret", "is longer than 200 characters")
	}
	if rest, ok := strings.CutPrefix(secret, WebhookSecretPrefix); ok {
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return Invalid("webhook.secret", "starts with whsec_ but the rest is not base64")
		}
		if len(key) < minWebhookKey {
			return Invalid("webhook.secret", "after whsec_ encodes %d bytes; the key must be at least %d bytes", len(key), minWebhookKey)
		}
		return nil
	}
	if secret != "" && len(secret) < minWebhookKey {
		return Invalid("webhook.secret", "must be at least %d characters", minWebhookKey)
	}
	return nil
}

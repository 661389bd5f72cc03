package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// NormalizeAddress returns the stored form of a subscriber address: spaces
// trimmed and, for an email address, the domain lowercased (the local part
// is the mailbox owner's and stays as typed). It is idempotent, so
// normalizing a stored address changes nothing.
func NormalizeAddress(addr string) string {
	addr = strings.TrimSpace(addr)
	if at := strings.LastIndexByte(addr, '@'); at >= 0 && !strings.Contains(addr, "://") {
		return addr[:at+1] + strings.ToLower(addr[at+1:])
	}
	return addr
}

// AddressHash returns the key of an address on the suppression list: the
// hex SHA-256 of its normalized form. Suppressions keep only this hash, so
// they outlive the erasure of the subscriber without keeping the address.
// The store computes the same hash in SQL (herald_sha256) over stored,
// normalized addresses; the two always agree.
func AddressHash(addr string) string {
	sum := sha256.Sum256([]byte(NormalizeAddress(addr)))
	return hex.EncodeToString(sum[:])
}

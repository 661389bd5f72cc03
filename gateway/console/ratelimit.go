package console

import "github.com/heraldstatus/herald/gateway/ratelimit"

// Limit is a token bucket: Burst attempts at once, one more every Every.
// It is the one keyed token bucket's (gateway/ratelimit): the console's
// sign-in limits keep their buckets there, keyed by client network (an
// IPv4 address, an IPv6 /64) and by account from a client network, with
// the number of keys bounded.
type Limit = ratelimit.Limit

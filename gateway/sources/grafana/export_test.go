package grafana

// The two ways Decode takes, for the tests that compare them.
var (
	DecodeCompact = decodeCompact
	DecodePlain   = decodePlain
)

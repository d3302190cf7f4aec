package events

// HTTPRequest is an FC 3.0 HTTP trigger event, decoded: what the handler needs to
// authenticate the caller and find the start requests.
type HTTPRequest struct {
	Version string
	RawPath string
	Method  string
	// Headers as sent; look them up with Header, which ignores case.
	Headers map[string]string
	// Query holds the query parameters as FC passes them (one value each).
	Query map[string]string
	// Body is the body as sent, base64-decoded when isBase64Encoded.
	Body []byte
	// TimeEpochMs is requestContext.timeEpoch (milliseconds); 0 when absent.
	TimeEpochMs int64
	RequestID   string
	SourceIP    string
}

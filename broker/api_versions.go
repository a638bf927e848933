package broker

// ApiVersions v0-4. The response lists exactly the API table. A request of
// a version newer than ours is answered in v0 form with UNSUPPORTED_VERSION
// and the supported ranges, so the client retries with a version we know
// (never by closing the connection). The response header is always v0.

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) apiVersionKeys() []kmsg.ApiVersionsResponseApiKey {
	keys := make([]kmsg.ApiVersionsResponseApiKey, 0, len(b.apis))
	for _, a := range b.apis {
		keys = append(keys, kmsg.ApiVersionsResponseApiKey{ApiKey: int16(a.key), MinVersion: a.min, MaxVersion: a.max})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ApiKey < keys[j].ApiKey })
	return keys
}

func (b *Broker) handleApiVersions(c *clientConn, req *kmsg.ApiVersionsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = b.apiVersionKeys()
	if req.Version >= 3 && (req.ClientSoftwareName == "" || req.ClientSoftwareVersion == "") {
		// Kafka requires both names on v3+ and answers INVALID_REQUEST.
		resp.ErrorCode = kerr.InvalidRequest.Code
	}
	return resp
}

func (b *Broker) apiVersionsUnsupported() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = b.apiVersionKeys()
	return resp
}

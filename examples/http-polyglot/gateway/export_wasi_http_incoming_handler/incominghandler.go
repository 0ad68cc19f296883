// Package export_wasi_http_incoming_handler is the service's network handler: it answers HTTP
// with JSON, asking the Rust statistics and the Python ranking it is composed with.
//
//	GET  /                 the routes
//	POST /stats            {"text": "..."} → {"words": 7, "unique": 5, "longest": "..."}
//	POST /top?limit=3      {"text": "..."} → [{"word": "the", "count": 3}, ...]
package export_wasi_http_incoming_handler

import (
	"encoding/json"
	"net/url"
	"strconv"

	. "go.bytecodealliance.org/pkg/wit/types"
	"wit_component/example_wordsvc_ranking"
	"wit_component/example_wordsvc_stats"
	. "wit_component/wasi_http_types"
)

type textRequest struct {
	Text string `json:"text"`
}

type summary struct {
	Words   uint32 `json:"words"`
	Unique  uint32 `json:"unique"`
	Longest string `json:"longest"`
}

type entry struct {
	Word  string `json:"word"`
	Count uint32 `json:"count"`
}

// Handle routes one request.
func Handle(request *IncomingRequest, responseOut *ResponseOutparam) {
	target, _ := url.Parse(request.PathWithQuery().SomeOr("/"))
	post := request.Method().Tag() == Method_Post
	switch {
	case target.Path == "/" && !post:
		respond(responseOut, 200, map[string]any{
			"routes": []string{"POST /stats", "GET /stats/count", "POST /top?limit=N"},
		})
	case target.Path == "/stats/count" && !post:
		respond(responseOut, 200, map[string]any{"analyzed": example_wordsvc_stats.Analyzed()})
	case target.Path == "/stats" && post:
		text, ok := readText(request, responseOut)
		if ok {
			s := example_wordsvc_stats.Analyze(text)
			respond(responseOut, 200, summary{s.Words, s.Unique, s.Longest})
		}
	case target.Path == "/top" && post:
		limit, err := strconv.ParseUint(target.Query().Get("limit"), 10, 32)
		if err != nil {
			limit = 3
		}
		text, ok := readText(request, responseOut)
		if ok {
			entries := []entry{}
			for _, e := range example_wordsvc_ranking.Top(text, uint32(limit)) {
				entries = append(entries, entry{e.Word, e.Count})
			}
			respond(responseOut, 200, entries)
		}
	default:
		respond(responseOut, 404, map[string]string{"error": "no such route: " + target.Path})
	}
}

// readText reads a JSON `{"text": ...}` body; on a bad body it answers 400 itself.
func readText(request *IncomingRequest, responseOut *ResponseOutparam) (string, bool) {
	var data []byte
	body := request.Consume().Ok()
	stream := body.Stream().Ok()
	for {
		chunk := stream.BlockingRead(64 * 1024)
		if chunk.IsErr() {
			break
		}
		data = append(data, chunk.Ok()...)
	}
	stream.Drop()
	IncomingBodyFinish(body).Drop()
	var parsed textRequest
	if err := json.Unmarshal(data, &parsed); err != nil {
		respond(responseOut, 400, map[string]string{"error": "expected a JSON body {\"text\": \"...\"}: " + err.Error()})
		return "", false
	}
	return parsed.Text, true
}

// respond sends `value` as JSON with `status`.
func respond(responseOut *ResponseOutparam, status uint16, value any) {
	payload, _ := json.Marshal(value)
	payload = append(payload, '\n')
	headers := MakeFields()
	headers.Set("content-type", [][]byte{[]byte("application/json")})
	response := MakeOutgoingResponse(headers)
	response.SetStatusCode(status)
	body := response.Body().Ok()
	ResponseOutparamSet(responseOut, Ok[*OutgoingResponse, ErrorCode](response))
	stream := body.Write().Ok()
	// `blocking-write-and-flush` takes at most 4096 bytes (more traps): send the rest in turn.
	for len(payload) > 0 {
		n := min(len(payload), 4096)
		if stream.BlockingWriteAndFlush(payload[:n]).IsErr() {
			break // the client has gone
		}
		payload = payload[n:]
	}
	stream.Drop()
	OutgoingBodyFinish(body, None[*Fields]())
}

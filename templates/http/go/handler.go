// Package export_wasi_http_incoming_handler implements the world's export
// `wasi:http/incoming-handler`: `wcomp serve` calls Handle with a fresh instance for every
// request.
package export_wasi_http_incoming_handler

import (
{{#keyvalue}}
	"strconv"

{{/keyvalue}}
	. "go.bytecodealliance.org/pkg/wit/types"
{{#config}}
	"wit_component/wasi_config_store"
{{/config}}
	. "wit_component/wasi_http_types"
{{#keyvalue}}
	"wit_component/wasi_keyvalue_atomics"
	"wit_component/wasi_keyvalue_store"
{{/keyvalue}}
)

{{^keyvalue}}
// Handle answers `GET /` with a greeting and anything else with 404.
{{/keyvalue}}
{{#keyvalue}}
// Handle answers `GET /` with a greeting, `GET /visits` with a count and anything else with
// 404.
{{/keyvalue}}
func Handle(request *IncomingRequest, responseOut *ResponseOutparam) {
	status, text := uint16(404), "not found\n"
	switch request.PathWithQuery().SomeOr("") {
	case "/":
{{^config}}
		status, text = 200, "Hello from Go!\n"
{{/config}}
{{#config}}
		status, text = 200, greeting()
{{/config}}
{{#keyvalue}}
	case "/visits":
		status, text = visits()
{{/keyvalue}}
	}
	headers := MakeFields()
	headers.Set("content-type", [][]byte{[]byte("text/plain; charset=utf-8")})
	response := MakeOutgoingResponse(headers)
	response.SetStatusCode(status)
	body := response.Body().Ok()
	ResponseOutparamSet(responseOut, Ok[*OutgoingResponse, ErrorCode](response))
	stream := body.Write().Ok()
	// `blocking-write-and-flush` takes at most 4096 bytes (more traps): send the rest in turn.
	for data := []byte(text); len(data) > 0; {
		n := min(len(data), 4096)
		if stream.BlockingWriteAndFlush(data[:n]).IsErr() {
			break // the client has gone
		}
		data = data[n:]
	}
	stream.Drop()
	OutgoingBodyFinish(body, None[*Fields]())
}
{{#config}}

// greeting is the configuration value `greeting` (`wasi:config/store`), or the default
// greeting when the host has none.
func greeting() string {
	if value := wasi_config_store.Get("greeting"); value.IsOk() && value.Ok().IsSome() {
		return value.Ok().Some() + "\n"
	}
	return "Hello from Go!\n"
}
{{/config}}
{{#keyvalue}}

// bucket is the `wasi:keyvalue` bucket `/visits` counts in, by the name the host grants it
// under.
const bucket = "default"

// visits counts the requests to `/visits` under the key `visits` of bucket: the status and
// text of the answer. The increment is atomic: requests served at once each get their own
// count.
func visits() (uint16, string) {
	opened := wasi_keyvalue_store.Open(bucket)
	if opened.IsErr() {
		// Such as a bucket the host does not grant.
		return 503, "cannot count visits: " + message(opened.Err()) + "\n"
	}
	store := opened.Ok()
	defer store.Drop()
	counted := wasi_keyvalue_atomics.Increment(store, "visits", 1)
	if counted.IsErr() {
		return 503, "cannot count visits: " + message(counted.Err()) + "\n"
	}
	return 200, strconv.FormatUint(counted.Ok(), 10) + " visits\n"
}

// message says what a `wasi:keyvalue` error is.
func message(err wasi_keyvalue_store.Error) string {
	switch err.Tag() {
	case wasi_keyvalue_store.Error_NoSuchStore:
		return "no such store"
	case wasi_keyvalue_store.Error_AccessDenied:
		return "access denied"
	default:
		return err.Other()
	}
}
{{/keyvalue}}

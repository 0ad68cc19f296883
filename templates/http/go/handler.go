// Package export_wasi_http_incoming_handler implements the world's export
// `wasi:http/incoming-handler`: `wcomp serve` calls Handle with a fresh instance for every
// request.
package export_wasi_http_incoming_handler

import (
	. "go.bytecodealliance.org/pkg/wit/types"
	. "wit_component/wasi_http_types"
)

// Handle answers `GET /` with a greeting and anything else with 404.
func Handle(request *IncomingRequest, responseOut *ResponseOutparam) {
	status, text := uint16(404), "not found\n"
	if path := request.PathWithQuery(); path.IsSome() && path.Some() == "/" {
		status, text = 200, "Hello from Go!\n"
	}
	headers := MakeFields()
	headers.Set("content-type", [][]byte{[]byte("text/plain; charset=utf-8")})
	response := MakeOutgoingResponse(headers)
	response.SetStatusCode(status)
	body := response.Body().Ok()
	ResponseOutparamSet(responseOut, Ok[*OutgoingResponse, ErrorCode](response))
	stream := body.Write().Ok()
	stream.BlockingWriteAndFlush([]byte(text))
	stream.Drop()
	OutgoingBodyFinish(body, None[*Fields]())
}

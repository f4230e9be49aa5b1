module mizu-sync/interop/harness

go 1.26

require (
	github.com/go-mizu/mizu v0.5.26
	github.com/gorilla/websocket v1.5.3
)

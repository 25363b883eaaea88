module github.com/uringnet/uringnet/bench

go 1.26.8

require (
	github.com/gorilla/websocket v1.5.3
	github.com/valyala/fasthttp v1.69.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/andybalholm/brotli v1.2.0 // indirect
	github.com/klauspost/compress v1.18.2 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

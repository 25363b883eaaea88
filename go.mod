module github.com/uringnet/uringnet

go 1.26.8

require (
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

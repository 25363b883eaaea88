package cache_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/uringnet/uringnet/cache"
)

// Load reads a small file once; later Gets with the same identity hit the
// cache, and a change to the file (a new identity) misses.
func Example() {
	c, err := cache.New(cache.Config{MaxBytes: 1 << 20, MaxEntryBytes: 64 << 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "cache-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "index.html")
	os.WriteFile(path, []byte("<h1>hi</h1>"), 0o644)

	f, _ := os.Open(path)
	e, err := c.Load(f, "/index.html", "text/html; charset=utf-8")
	f.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fi, _ := os.Stat(path)
	hit, ok := c.Get("/index.html", cache.IdentityOf(fi))
	fmt.Printf("%q %s hit=%v same=%v\n", e.Data, e.ContentType, ok, hit == e)

	os.WriteFile(path, []byte("<h1>changed</h1>"), 0o644)
	fi, _ = os.Stat(path)
	_, ok = c.Get("/index.html", cache.IdentityOf(fi))
	fmt.Println("after the change: hit =", ok)
	// Output:
	// "<h1>hi</h1>" text/html; charset=utf-8 hit=true same=true
	// after the change: hit = false
}

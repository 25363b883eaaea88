package stdhttp_test

import (
	"net/http"
	"testing"
)

// serveAdapter starts the adapter side of the differential tests. Until the
// adapter lands it is net/http again, which checks the harness: every case
// must pass.
// adapterIsStd says serveAdapter is net/http: the cases where the adapter
// differs on purpose then expect net/http's answer.
const adapterIsStd = true

func serveAdapter(t *testing.T, h http.Handler, o serverOpts) string {
	return serveStd(t, h, o)
}

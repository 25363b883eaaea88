package stdhttp

// The dependencies the adapter's tests and the demo use, pinned in go.mod
// before their code lands.
import (
	_ "github.com/go-chi/chi/v5"
	_ "github.com/gorilla/mux"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
)

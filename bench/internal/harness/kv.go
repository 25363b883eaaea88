package harness

import (
	"fmt"
	"strconv"
	"strings"
)

// KV is one parsed line of space-separated key=value pairs, such as the final
// "stats accepted=64 closed=64 ..." line of a server or the "result ..." line of a load
// generator.
type KV map[string]string

// ParseKV parses a line of the form "TAG key=value key=value ...". When tag is not empty the
// line must start with it as its first word. Fields are separated by runs of spaces or tabs;
// a field without '=' or with an empty key is an error, as is a repeated key.
func ParseKV(line, tag string) (KV, error) {
	fields := strings.Fields(line)
	if tag != "" {
		if len(fields) == 0 || fields[0] != tag {
			return nil, fmt.Errorf("parse %q: want a line starting with %q", line, tag)
		}
		fields = fields[1:]
	}
	kv := make(KV, len(fields))
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("parse %q: field %q is not key=value", line, f)
		}
		if _, dup := kv[k]; dup {
			return nil, fmt.Errorf("parse %q: key %q repeated", line, k)
		}
		kv[k] = v
	}
	return kv, nil
}

// Int returns the value of key as an int64.
func (kv KV) Int(key string) (int64, error) {
	s, ok := kv[key]
	if !ok {
		return 0, fmt.Errorf("no %q field", key)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %q: %w", key, err)
	}
	return n, nil
}

// Float returns the value of key as a float64.
func (kv KV) Float(key string) (float64, error) {
	s, ok := kv[key]
	if !ok {
		return 0, fmt.Errorf("no %q field", key)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("field %q: %w", key, err)
	}
	return f, nil
}

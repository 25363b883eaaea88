package http

import "time"

// etagMatch reports whether the If-Match or If-None-Match field value list
// matches etag, the entity tag of the current representation written with
// its quotes (and W/ prefix if weak), as in `"abc"` or `W/"abc"`.
//
// The list is "*" or a comma-separated list of entity tags with optional
// whitespace. "*" matches any representation; callers ask only about one
// that exists. With weak false the strong comparison of RFC 9110 §8.8.3.2
// applies (both tags strong and equal: If-Match); with weak true the weak
// comparison (opaque tags equal, W/ ignored: If-None-Match). A malformed
// list matches nothing after the first malformed member.
func etagMatch(list []byte, etag string, weak bool) bool {
	list = trimOWS(list)
	if len(list) == 1 && list[0] == '*' {
		return true
	}
	wantWeak, want, ok := splitETag(etag)
	if !ok || (!weak && wantWeak) {
		return false
	}
	for len(list) > 0 {
		list = trimOWS(list)
		if len(list) > 0 && list[0] == ',' {
			list = list[1:]
			continue
		}
		if len(list) == 0 {
			break
		}
		isWeak, opaque, rest, ok := scanETag(list)
		if !ok {
			return false
		}
		if (weak || !isWeak) && string(opaque) == want {
			return true
		}
		list = trimOWS(rest)
		if len(list) > 0 && list[0] != ',' {
			return false
		}
	}
	return false
}

// scanETag reads one entity-tag (RFC 9110 §8.8.3) from the start of b and
// returns whether it is weak, its opaque-tag (quotes included) and the
// rest of b.
func scanETag(b []byte) (weak bool, opaque, rest []byte, ok bool) {
	if len(b) >= 2 && b[0] == 'W' && b[1] == '/' {
		weak, b = true, b[2:]
	}
	if len(b) < 2 || b[0] != '"' {
		return false, nil, nil, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return weak, b[:i+1], b[i+1:], true
		case c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80: // etagc
		default:
			return false, nil, nil, false
		}
	}
	return false, nil, nil, false
}

// splitETag splits our own entity tag into weakness and opaque-tag.
func splitETag(etag string) (weak bool, opaque string, ok bool) {
	w, o, rest, ok := scanETag([]byte(etag))
	if !ok || len(rest) != 0 {
		return false, "", false
	}
	return w, string(o), true
}

// checkPreconditions evaluates the conditional request header fields in the
// order of RFC 9110 §13.2.2 for a representation that exists, with entity
// tag etag (may be empty) and last modification time modTime (zero when
// unknown). An empty field value means the field is absent.
//
// It returns 0 to proceed with the request, 304 (Not Modified, only for GET
// and HEAD) or 412 (Precondition Failed). If-Range is separate, see
// ifRangeApplies. Dates are compared at one-second resolution, the
// resolution of HTTP dates; an invalid date makes its field be ignored.
func checkPreconditions(method string, ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince []byte, etag string, modTime time.Time) int {
	getOrHead := method == "GET" || method == "HEAD"
	// Step 1 and 2: If-Match, else If-Unmodified-Since.
	if len(trimOWS(ifMatch)) > 0 {
		if !etagMatch(ifMatch, etag, false) {
			return 412
		}
	} else if len(ifUnmodifiedSince) > 0 && !modTime.IsZero() {
		if t, ok := parseValidatorTime(ifUnmodifiedSince); ok && modTime.Unix() > t.Unix() {
			return 412
		}
	}
	// Step 3 and 4: If-None-Match, else If-Modified-Since (GET/HEAD only).
	if len(trimOWS(ifNoneMatch)) > 0 {
		if etagMatch(ifNoneMatch, etag, true) {
			if getOrHead {
				return 304
			}
			return 412
		}
	} else if getOrHead && len(ifModifiedSince) > 0 && !modTime.IsZero() {
		if t, ok := parseValidatorTime(ifModifiedSince); ok && modTime.Unix() <= t.Unix() {
			return 304
		}
	}
	return 0
}

// ifRangeApplies reports whether a Range request with the If-Range field
// value ifRange should be honoured (RFC 9110 §13.1.5): true when ifRange is
// empty (no If-Range), or is a strong entity tag that matches etag by the
// strong comparison, or is an HTTP-date exactly equal to modTime at
// one-second resolution. A weak tag, a malformed value or a zero modTime
// give false: the caller then ignores Range and sends the whole
// representation with 200.
func ifRangeApplies(ifRange []byte, etag string, modTime time.Time) bool {
	ifRange = trimOWS(ifRange)
	if len(ifRange) == 0 {
		return true
	}
	if ifRange[0] == '"' || (len(ifRange) >= 2 && ifRange[0] == 'W' && ifRange[1] == '/') {
		weak, opaque, rest, ok := scanETag(ifRange)
		if !ok || weak || len(rest) != 0 {
			return false
		}
		ourWeak, ours, ok := splitETag(etag)
		return ok && !ourWeak && string(opaque) == ours
	}
	t, ok := parseValidatorTime(ifRange)
	return ok && !modTime.IsZero() && modTime.Unix() == t.Unix()
}

// Layouts of the obsolete HTTP-date forms (RFC 9110 §5.6.7) that
// recipients must still accept; IMF-fixdate is parsed by hand.
const (
	validatorRFC850 = "Monday, 02-Jan-06 15:04:05 GMT"
	validatorANSIC  = "Mon Jan _2 15:04:05 2006"
)

// parseValidatorTime parses an HTTP-date in any of its three forms, with
// surrounding whitespace allowed. The preferred IMF-fixdate form is parsed
// without allocating.
func parseValidatorTime(b []byte) (time.Time, bool) {
	b = trimOWS(b)
	if t, ok := parseIMFFixdate(b); ok {
		return t, true
	}
	if len(b) < len(validatorANSIC) || len(b) > len("Wednesday, 02-Jan-06 15:04:05 GMT") {
		return time.Time{}, false
	}
	s := string(b)
	for _, layout := range [...]string{validatorRFC850, validatorANSIC} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseIMFFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT" exactly, with the
// validation time.Parse applies to that layout (day name, month name, day
// within the month, hour < 24, minute and second < 60).
func parseIMFFixdate(b []byte) (time.Time, bool) {
	if len(b) != len(imfFixdate) || b[3] != ',' || b[4] != ' ' || b[7] != ' ' ||
		b[11] != ' ' || b[16] != ' ' || b[19] != ':' || b[22] != ':' || b[25] != ' ' ||
		string(b[26:]) != "GMT" {
		return time.Time{}, false
	}
	if !validDayName(b[:3]) {
		return time.Time{}, false
	}
	month := monthFromName(b[8:11])
	day, ok1 := twoDigits(b[5:7])
	y1, ok2 := twoDigits(b[12:14])
	y2, ok3 := twoDigits(b[14:16])
	hh, ok4 := twoDigits(b[17:19])
	mm, ok5 := twoDigits(b[20:22])
	ss, ok6 := twoDigits(b[23:25])
	if month == 0 || !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || hh > 23 || mm > 59 || ss > 59 || day < 1 {
		return time.Time{}, false
	}
	year := y1*100 + y2
	t := time.Date(year, month, day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day { // day beyond the end of the month
		return time.Time{}, false
	}
	return t, true
}

func twoDigits(b []byte) (int, bool) {
	if b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 0, false
	}
	return int(b[0]-'0')*10 + int(b[1]-'0'), true
}

// validDayName reports whether b is a three-letter English day name
// (matched case-insensitively, as time.Parse does).
func validDayName(b []byte) bool {
	for _, d := range [...]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		if equalFold(b, d) {
			return true
		}
	}
	return false
}

// monthFromName returns the month named by three letters, or 0.
func monthFromName(b []byte) time.Month {
	for i, m := range [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		if equalFold(b, m) {
			return time.Month(i + 1)
		}
	}
	return 0
}

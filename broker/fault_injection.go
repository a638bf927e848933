package broker

// Fault injection for tests, in the manner of franz-go's kfake ControlKey:
// a test can make the broker answer the next requests of an API with an
// error code, delay them, or drop the connection, to provoke NOT_LEADER,
// COORDINATOR_LOAD_IN_PROGRESS or a slow JoinGroup in the clients under
// test. It is for tests only: a production broker leaves Config.Faults nil,
// which costs one nil check per request.

import (
	"reflect"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fault is what happens to one request.
type Fault struct {
	// Delay holds the request this long before it is handled (or
	// answered with ErrorCode). Other connections are not held.
	Delay time.Duration
	// ErrorCode, when non-zero, answers the request with this error code
	// instead of handling it: every ErrorCode field of the response is set
	// to it, and the response lists the topics, partitions, groups or
	// keys the request named. Nothing is applied.
	ErrorCode int16
	// DropConnection closes the client's connection instead of answering
	// (after Delay). Nothing is applied.
	DropConnection bool
}

// Faults holds the faults to inject. The zero value is ready and injects
// nothing; it is safe for concurrent use. Set Config.Faults to a *Faults
// before Start and add rules while the broker runs.
type Faults struct {
	mu    sync.Mutex
	rules []*faultRule
	hits  map[kmsg.Key]int
}

type faultRule struct {
	key   kmsg.Key
	left  int // requests still to fault; -1: every one
	match func(kmsg.Request) bool
	fault Fault
}

// Next applies fault to the next n requests of API key.
func (f *Faults) Next(key kmsg.Key, n int, fault Fault) {
	f.add(&faultRule{key: key, left: n, fault: fault})
}

// When applies fault to every request of API key for which match returns
// true (every request if match is nil), until Clear. match runs on the
// connection's handler goroutine and must not block.
func (f *Faults) When(key kmsg.Key, match func(kmsg.Request) bool, fault Fault) {
	f.add(&faultRule{key: key, left: -1, match: match, fault: fault})
}

// Clear removes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.rules = nil
	f.mu.Unlock()
}

// Injected is how many requests of API key have had a fault so far.
func (f *Faults) Injected(key kmsg.Key) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[key]
}

func (f *Faults) add(r *faultRule) {
	if r.left == 0 {
		return
	}
	f.mu.Lock()
	f.rules = append(f.rules, r)
	f.mu.Unlock()
}

// take returns the fault for req, if a rule matches, using up one of the
// rule's requests. Rules are tried in the order they were added.
func (f *Faults) take(key int16, req kmsg.Request) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if int16(r.key) != key || (r.match != nil && !r.match(req)) {
			continue
		}
		if r.left > 0 {
			r.left--
			if r.left == 0 {
				f.rules = append(f.rules[:i:i], f.rules[i+1:]...)
			}
		}
		if f.hits == nil {
			f.hits = map[kmsg.Key]int{}
		}
		f.hits[r.key]++
		return r.fault, true
	}
	return Fault{}, false
}

// errorResponse builds req's response with every ErrorCode set to code,
// mirroring the request's lists (topics, partitions, groups, coordinator
// keys, ...) so that a client finds an answer for everything it asked.
func errorResponse(req kmsg.Request, code int16) kmsg.Response {
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	mirror(reflect.ValueOf(resp).Elem(), reflect.ValueOf(req).Elem(), code)
	return resp
}

// mirror fills struct dst from struct src: ErrorCode fields get code,
// same-named fields of the same type are copied, and a slice of structs in
// dst gets one element per element of the same-named slice in src (or,
// when src's is a list of strings, one element per string, with the
// string as the element's Key, Topic, Group or Name).
func mirror(dst, src reflect.Value, code int16) {
	t := dst.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		df := dst.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16 {
			df.SetInt(int64(code))
			continue
		}
		sf := src.FieldByName(f.Name)
		if alias, ok := requestField[f.Name]; ok && !sf.IsValid() {
			sf = src.FieldByName(alias)
		}
		if !sf.IsValid() {
			if noNode[f.Name] && f.Type.Kind() == reflect.Int32 {
				df.SetInt(-1) // Kafka's "no node" in an error answer
			}
			continue
		}
		switch {
		case sf.Type() == f.Type && f.Type.Kind() != reflect.Slice && f.Type.Kind() != reflect.Struct:
			df.Set(sf)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct && sf.Kind() == reflect.Slice:
			out := reflect.MakeSlice(f.Type, sf.Len(), sf.Len())
			for j := range sf.Len() {
				elem := out.Index(j)
				setDefaults(elem)
				switch se := sf.Index(j); se.Kind() {
				case reflect.Struct:
					mirror(elem, se, code)
				case reflect.String:
					mirrorName(elem, se.String(), code)
				}
			}
			df.Set(out)
		}
	}
}

// requestField names the request list a response list answers where the
// two are named differently.
var requestField = map[string]string{"Coordinators": "CoordinatorKeys"}

// noNode names the node fields that an error answer sets to -1, as Kafka
// does (a FindCoordinator error with node 0 would send the client to us).
var noNode = map[string]bool{"NodeID": true, "LeaderID": true, "Port": true}

// mirrorName fills a response element answering a request that named its
// subjects as plain strings (FindCoordinator keys, DescribeGroups groups).
func mirrorName(elem reflect.Value, name string, code int16) {
	for _, field := range []string{"Key", "Topic", "Group", "Name"} {
		f := elem.FieldByName(field)
		if f.IsValid() && f.Kind() == reflect.String {
			f.SetString(name)
			break
		}
		if f.IsValid() && f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.String {
			s := name
			f.Set(reflect.ValueOf(&s))
			break
		}
	}
	for i := range elem.NumField() {
		f, name := elem.Field(i), elem.Type().Field(i).Name
		switch {
		case name == "ErrorCode" && f.Kind() == reflect.Int16:
			f.SetInt(int64(code))
		case noNode[name] && f.Kind() == reflect.Int32:
			f.SetInt(-1)
		}
	}
}

// setDefaults applies kmsg's Default method (its non-zero field defaults,
// such as -1 offsets) to a fresh response element.
func setDefaults(v reflect.Value) {
	if m := v.Addr().MethodByName("Default"); m.IsValid() && m.Type().NumIn() == 0 {
		m.Call(nil)
	}
}

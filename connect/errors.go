package connect

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels, matched with errors.Is.
var (
	// ErrUnknownPlugin: no plugin has that class name or alias.
	ErrUnknownPlugin = errors.New("connect: unknown plugin")
	// ErrInvalidConfig: a config failed validation; errors.As finds the
	// *ConfigError with the per-key problems.
	ErrInvalidConfig = errors.New("connect: invalid config")
)

// RetriableError marks an error after which the same operation may succeed
// if tried again (a timeout, an unavailable server): nothing was lost and
// the runtime retries. See SourceTask and SinkTask for who retries how.
type RetriableError struct{ Err error }

func (e *RetriableError) Error() string { return e.Err.Error() }
func (e *RetriableError) Unwrap() error { return e.Err }

// Retriable marks err as retriable (nil stays nil).
func Retriable(err error) error {
	if err == nil {
		return nil
	}
	return &RetriableError{Err: err}
}

// IsRetriable reports whether err, or an error it wraps, was marked with
// Retriable.
func IsRetriable(err error) bool {
	var r *RetriableError
	return errors.As(err, &r)
}

// DataError is a problem with one record's content (it cannot be
// converted or transformed), as opposed to a problem with the system.
// errors.tolerance decides whether such a record fails the task or is
// skipped (and sent to the dead-letter queue on the sink side).
type DataError struct{ Err error }

func (e *DataError) Error() string { return e.Err.Error() }
func (e *DataError) Unwrap() error { return e.Err }

// DataErrorf returns a *DataError with a formatted message (%w works).
func DataErrorf(format string, args ...any) error {
	return &DataError{Err: fmt.Errorf(format, args...)}
}

// FieldError is one problem with one config key.
type FieldError struct {
	// Key is the config key, e.g. "batch.size" or "transforms.x.type".
	Key string
	// Message says what is wrong and what would be accepted.
	Message string
}

func (e FieldError) Error() string { return e.Key + ": " + e.Message }

// ConfigError lists every problem found in a config. It matches
// ErrInvalidConfig with errors.Is.
type ConfigError struct {
	Errors []FieldError
}

func (e *ConfigError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Error()
	}
	return "invalid config: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// ByKey returns the messages of each key, in order.
func (e *ConfigError) ByKey() map[string][]string {
	out := map[string][]string{}
	for _, f := range e.Errors {
		out[f.Key] = append(out[f.Key], f.Message)
	}
	return out
}

// ConfigErrors combines problems into one *ConfigError, or nil when there
// are none. Arguments may be FieldError, *ConfigError (flattened) or nil.
// Any other error becomes a FieldError with an empty key.
func ConfigErrors(errs ...error) error {
	var out []FieldError
	for _, err := range errs {
		if err == nil {
			continue
		}
		var ce *ConfigError
		var fe FieldError
		switch {
		case errors.As(err, &ce):
			out = append(out, ce.Errors...)
		case errors.As(err, &fe):
			out = append(out, fe)
		default:
			out = append(out, FieldError{Message: err.Error()})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &ConfigError{Errors: out}
}

package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// usageError marks a mistake in how a command was invoked (a bad flag value,
// a missing flag, a conflicting pair). Execute exits 2 for it and 1 for
// everything else, as Kafka's tools and most Unix tools do.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

func isUsageError(err error) bool {
	var ue *usageError
	return errors.As(err, &ue)
}

// flagValueError is returned by the flag values below. It already names the
// flag, so flagErrorFunc shows it as is instead of pflag's generic
// `invalid argument "x" for "--flag" flag: ...` wrapping.
type flagValueError struct{ msg string }

func (e *flagValueError) Error() string { return e.msg }

// flagErrorFunc turns every flag parsing failure into a usage error.
func flagErrorFunc(_ *cobra.Command, err error) error {
	var fe *flagValueError
	if errors.As(err, &fe) {
		return &usageError{fe}
	}
	return &usageError{err}
}

// noArgs rejects positional arguments: every input to these commands is a
// named flag, as in Kafka's tools.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q: %s takes only flags", args[0], cmd.CommandPath())
	}
	return nil
}

// integer is the set of integer types the CLI parses from flags.
type integer interface {
	~int | ~int16 | ~int32 | ~int64
}

// intFlag is an integer flag with a lower bound and an error message that
// names the flag and the accepted values.
type intFlag[T integer] struct {
	p    *T
	name string
	min  T
	what string // "a positive integer", "a non-negative integer"
}

func (f *intFlag[T]) String() string { return strconv.FormatInt(int64(*f.p), 10) }
func (f *intFlag[T]) Type() string   { return "int" }

func (f *intFlag[T]) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || int64(T(n)) != n || T(n) < f.min {
		return &flagValueError{fmt.Sprintf("--%s must be %s, got %q", f.name, f.what, s)}
	}
	*f.p = T(n)
	return nil
}

// positiveIntVar registers an integer flag that accepts values >= 1. The
// default may lie outside that range (-1 meaning "let the broker decide").
func positiveIntVar[T integer](fs *pflag.FlagSet, p *T, name string, def T, usage string) {
	*p = def
	fs.Var(&intFlag[T]{p: p, name: name, min: 1, what: "a positive integer"}, name, usage)
	hideOutOfRangeDefault(fs, name, def < 1)
}

// hideOutOfRangeDefault keeps help from showing "(default -1)" for a flag
// whose default is a "not set" marker the user cannot type; its usage text
// says what not setting it means.
func hideOutOfRangeDefault(fs *pflag.FlagSet, name string, hide bool) {
	if hide {
		fs.Lookup(name).DefValue = ""
	}
}

// nonNegativeIntVar registers an integer flag that accepts values >= 0.
func nonNegativeIntVar[T integer](fs *pflag.FlagSet, p *T, name string, def T, usage string) {
	*p = def
	fs.Var(&intFlag[T]{p: p, name: name, min: 0, what: "a non-negative integer"}, name, usage)
	hideOutOfRangeDefault(fs, name, def < 0)
}

// enumFlag accepts one of a fixed list of words, case-insensitively.
type enumFlag struct {
	p        *string
	name     string
	accepted []string
}

func (f *enumFlag) String() string { return *f.p }
func (f *enumFlag) Type() string   { return "string" }

func (f *enumFlag) Set(s string) error {
	v := strings.ToLower(strings.TrimSpace(s))
	for _, a := range f.accepted {
		if v == a {
			*f.p = a
			return nil
		}
	}
	return &flagValueError{fmt.Sprintf("unknown --%s %q: accepted %s", f.name, s, strings.Join(f.accepted, ", "))}
}

func enumVar(fs *pflag.FlagSet, p *string, name, def string, accepted []string, usage string) {
	*p = def
	fs.Var(&enumFlag{p: p, name: name, accepted: accepted}, name, usage)
}

// durationFlag is a positive Go duration ("30s", "2m").
type durationFlag struct {
	p    *time.Duration
	name string
}

func (f *durationFlag) String() string { return f.p.String() }
func (f *durationFlag) Type() string   { return "duration" }

func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return &flagValueError{fmt.Sprintf("--%s must be a positive duration such as 30s or 2m, got %q", f.name, s)}
	}
	*f.p = d
	return nil
}

func durationVar(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var(&durationFlag{p: p, name: name}, name, usage)
}

// requireFlag returns a usage error if a string flag was left empty.
func requireFlag(value, name, what string) error {
	if strings.TrimSpace(value) == "" {
		return usageErrorf("--%s is required: %s", name, what)
	}
	return nil
}

// listFlag is a flag that may be repeated and takes comma-separated lists,
// as kafka-consumer-groups.sh's --group and --topic do: `--topic a --topic
// b,c` is a, b and c. split turns one argument into items (nil: split on
// commas); an empty item is refused naming the flag.
type listFlag struct {
	p     *[]string
	name  string
	split func(string) ([]string, error)
}

func (f *listFlag) String() string { return strings.Join(*f.p, ",") }
func (f *listFlag) Type() string   { return "strings" }

// repeatable marks flag values that accept being given more than once.
func (f *listFlag) repeatable() {}

func (f *listFlag) Set(s string) error {
	split := f.split
	if split == nil {
		split = splitCommaList
	}
	items, err := split(s)
	if err != nil {
		return &flagValueError{fmt.Sprintf("--%s %q: %v", f.name, s, err)}
	}
	*f.p = append(*f.p, items...)
	return nil
}

// splitCommaList splits "a,b" into trimmed items and refuses empty ones.
func splitCommaList(s string) ([]string, error) {
	var items []string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, errors.New("empty name in the list (write names separated by commas, e.g. a,b)")
		}
		items = append(items, item)
	}
	return items, nil
}

// listVar registers a repeatable, comma-separated list flag.
func listVar(fs *pflag.FlagSet, p *[]string, name, usage string) {
	fs.Var(&listFlag{p: p, name: name}, name, usage)
}

// onceValue refuses a second value for a flag that takes one: pflag would
// silently keep the last, so `--group a --group b` would act on b alone.
type onceValue struct {
	pflag.Value
	name string
	set  bool
}

func (o *onceValue) Set(s string) error {
	if o.set {
		return &flagValueError{fmt.Sprintf("--%s takes one value but was given twice (%q, then %q)", o.name, o.Value.String(), s)}
	}
	o.set = true
	return o.Value.Set(s)
}

// refuseRepeatedFlags makes every single-value flag of cmd and its
// subcommands refuse a second value (exit 2). Flags without a value
// (booleans) may be repeated harmlessly; list flags collect every value.
func refuseRepeatedFlags(cmd *cobra.Command) {
	wrap := func(f *pflag.Flag) {
		if _, ok := f.Value.(interface{ repeatable() }); ok {
			return
		}
		if _, ok := f.Value.(pflag.SliceValue); ok {
			return
		}
		if _, ok := f.Value.(*onceValue); ok {
			return
		}
		switch t := f.Value.Type(); {
		case t == "bool", t == "count", strings.HasPrefix(t, "stringTo"):
			return
		}
		f.Value = &onceValue{Value: f.Value, name: f.Name}
	}
	// Shell completion offers an enum flag's accepted words.
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if e, ok := f.Value.(*enumFlag); ok {
			words := e.accepted
			_ = cmd.RegisterFlagCompletionFunc(f.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return words, cobra.ShellCompDirectiveNoFileComp
			})
		}
	})
	cmd.Flags().VisitAll(wrap)
	cmd.PersistentFlags().VisitAll(wrap)
	for _, sub := range cmd.Commands() {
		refuseRepeatedFlags(sub)
	}
}

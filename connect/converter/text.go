package converter

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tributary-streams/tributary/connect/data"
)

// Text forms of Kafka Connect's logical times, as Kafka's Values writes them.
const (
	dateLayout      = "2006-01-02"
	timeLayout      = "15:04:05.000Z"
	timestampLayout = "2006-01-02T15:04:05.000Z"
)

// toText renders a value as StringConverter and SimpleHeaderConverter
// write it: strings as is, numbers and booleans as Java prints them,
// bytes as base64, Decimal in plain notation, dates and times in ISO-8601
// UTC, structs as Struct{field=value,...}, arrays and maps as JSON.
func toText(s *data.Schema, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		if s != nil && s.Name == data.DecimalName {
			break
		}
		return base64.StdEncoding.EncodeToString(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float32:
		return floatText(float64(x), 32), nil
	case float64:
		return floatText(x, 64), nil
	case data.Decimal:
		return x.String(), nil
	case time.Time:
		layout := timestampLayout
		if s != nil {
			switch s.Name {
			case data.DateName:
				layout = dateLayout
			case data.TimeName:
				layout = timeLayout
			}
		}
		return x.UTC().Format(layout), nil
	case *data.Struct:
		return x.String(), nil
	case []any, map[any]any, map[string]any:
		c := NewJSONConverter(false)
		b, err := c.FromConnect("", s, v)
		return string(b), err
	}
	return "", fmt.Errorf("cannot render Go type %T as text", v)
}

func floatText(f float64, bits int) string {
	b := appendFloat(nil, f, bits)
	if len(b) > 0 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	return string(b)
}

// parseFloatStrict reads a finite float64.
func parseFloatStrict(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err == nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return 0, strconv.ErrSyntax
	}
	return f, err
}

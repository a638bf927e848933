package worker

// Connector config files for a standalone worker, in the forms Kafka
// Connect and its users write them:
//
//	*.properties   Java properties, as connect-standalone takes them
//	*.json         {"name": "...", "config": {...}} (the REST API's body), or a flat object
//	*.yaml, *.yml  the same two shapes in YAML
//
// Values may be strings, numbers or booleans; a name given beside "config"
// wins over a "name" inside it only when they agree (else it is an error).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tributary-streams/tributary/internal/properties"
)

// LoadConnectorFile reads one connector config file.
func LoadConnectorFile(path string) (map[string]string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".properties":
		props, err := properties.ParseFile(path)
		if err != nil {
			return nil, fmt.Errorf("connector file: %w", err)
		}
		return properties.Map(props), nil
	case ".json", ".yaml", ".yml":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("connector file: %w", err)
		}
		return parseConnectorDoc(path, ext, b)
	}
	return nil, fmt.Errorf("connector file %s: unknown format: want .properties, .json, .yaml or .yml", path)
}

// parseConnectorDoc reads the JSON or YAML content of a connector file.
func parseConnectorDoc(path, ext string, b []byte) (map[string]string, error) {
	var doc map[string]any
	if ext == ".json" {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("connector file %s: not a JSON object: %w", path, err)
		}
	} else if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("connector file %s: not a YAML mapping: %w", path, err)
	}
	return connectorDoc(path, doc)
}

// connectorDoc reads the {"name", "config"} or flat shape.
func connectorDoc(path string, doc map[string]any) (map[string]string, error) {
	if doc == nil {
		return nil, fmt.Errorf("connector file %s is empty", path)
	}
	flat := doc
	if inner, ok := doc["config"]; ok {
		m, ok := inner.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("connector file %s: \"config\" must be an object of keys and values", path)
		}
		for k := range doc {
			if k != "name" && k != "config" {
				return nil, fmt.Errorf("connector file %s: unexpected top-level key %q beside \"config\" (accepted: name, config)", path, k)
			}
		}
		flat = m
	}
	out := map[string]string{}
	for k, v := range flat {
		s, err := scalarText(v)
		if err != nil {
			return nil, fmt.Errorf("connector file %s: key %q: %w", path, k, err)
		}
		out[k] = s
	}
	if name, ok := doc["name"]; ok && flat != nil {
		s, err := scalarText(name)
		if err != nil {
			return nil, fmt.Errorf("connector file %s: name: %w", path, err)
		}
		if inner, ok := out["name"]; ok && inner != s {
			return nil, fmt.Errorf("connector file %s: name %q and config name %q differ", path, s, inner)
		}
		out["name"] = s
	}
	return out, nil
}

func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("want a string, number or boolean, got %T", v)
}

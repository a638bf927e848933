package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

const (
	outputText  = "text"  // Kafka's tools' own format
	outputTable = "table" // aligned columns
	outputJSON  = "json"  // documented objects, for scripts
)

// addOutputFlag registers --output: text is what the matching Kafka tool
// prints (where Kafka prints a table, that table), table aligned columns,
// json documented objects for scripts.
func addOutputFlag(cmd *cobra.Command) *string {
	var format string
	enumVar(cmd.Flags(), &format, "output", outputText, []string{outputText, outputTable, outputJSON},
		"output format: text (as Kafka's tool prints it), table (aligned columns) or json")
	return &format
}

// writeTable writes an aligned table with an upper-case header row. An empty
// cell is shown as "-" so that every row has the same number of columns for
// tools like awk.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			if c == "" {
				c = "-"
			}
			cells[i] = c
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// writeResult reports a command's result: v as JSON with --output json,
// else text as it is.
func writeResult(w io.Writer, output string, v any, text string) error {
	if output == outputJSON {
		return writeJSON(w, v)
	}
	fmt.Fprint(w, text)
	return nil
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// joinInt32s renders replica lists the way kafka-topics.sh does: "1,2,3".
func joinInt32s(ns []int32) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ",")
}

// Package export_test_grants_probe reports what this component can see of its host.
package export_test_grants_probe

import "os"

// EnvVar is the variable's value, or "<unset>".
func EnvVar(name string) string {
	value, ok := os.LookupEnv(name)
	if !ok {
		return "<unset>"
	}
	return value
}

// ReadFile is the file's text, or the error opening it.
func ReadFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(data)
}

// Package config owns TNO's configuration: strict decoding of the YAML
// file, TNO_* environment overrides, defaults and validation.
//
// Load builds a Config in four layers, each overriding the one before:
// the defaults (Default), the YAML file, the environment, and finally
// command-line values applied with Config.Override. Every problem found on
// the way is reported at once, joined with errors.Join: unknown YAML keys
// with their line, values that do not parse, unknown TNO_* variables,
// unreadable *_file secrets and invalid settings.
//
// Environment variables are derived from the YAML keys: the key path in
// upper case, joined with underscores and prefixed with TNO_ (database.dsn
// is TNO_DATABASE_DSN). TNO_CONFIG and TNO_TEST_* are left to others.
//
// The package produces plain data: the server maps it onto each package's
// Options. It imports only the standard library and go.yaml.in/yaml/v3.
package config

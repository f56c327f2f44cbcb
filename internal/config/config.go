// Package config resolves a model's configuration: the defaults embedded from
// configs/<model>.yaml, then a user's YAML file, then command-line flags and
// --set key=value overrides, in that order of precedence.
//
// The embedded default file is also the schema: a key that it does not have,
// or a value of another type than its default, is an error naming the key and
// where it came from. The resolved configuration is written back as the
// default file with its values replaced, comments kept, so that
// `train --config OUT/config.yaml` reproduces a run.
package config

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/genmodel/genmodel/configs"
)

// Override is one value set on top of the defaults, with where it came from
// (a file name, "--set" or a flag), for error messages.
type Override struct {
	Key    string // dotted path, e.g. "train.epochs"
	Value  string // YAML text of the value
	Source string
}

// Config is a resolved configuration.
type Config struct {
	Model    string
	v        *viper.Viper
	defaults *yaml.Node // the embedded document, the schema and the output template
}

// Models lists the models that have an embedded default configuration.
func Models() []string {
	entries, _ := fs.ReadDir(configs.FS, ".")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// DefaultYAML returns the embedded default configuration of model.
func DefaultYAML(model string) ([]byte, error) {
	b, err := configs.FS.ReadFile(model + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("unknown model %q; known models: %s", model, strings.Join(Models(), ", "))
	}
	return b, nil
}

// FileModel returns the value of the top-level `model` key of a config file,
// or "" when it has none, so that `train --config run/config.yaml` needs no
// --model.
func FileModel(path string) (string, error) {
	doc, err := readYAMLFile(path)
	if err != nil {
		return "", err
	}
	if m := mappingValue(doc.Content[0], "model"); m != nil && m.Kind == yaml.ScalarNode {
		return m.Value, nil
	}
	return "", nil
}

// Load resolves model's configuration from the embedded defaults, the YAML
// file at path (if path is not empty) and the overrides, applied in order.
func Load(model, path string, overrides []Override) (*Config, error) {
	if path == "" {
		return LoadFrom(model, "", nil, overrides)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return LoadFrom(model, path, body, overrides)
}

// changedDefaults are the keys whose built-in default changed, with the value
// that a configuration saved before the key existed meant: such a saved
// configuration (a checkpoint's, a run's config.yaml) lacks the key, and the
// new default would rebuild another architecture than its weights'.
var changedDefaults = map[string][]Override{
	"dcgan": {
		{Key: "dcgan.g_hidden", Value: "[]", Source: "the default before 2026-11-26"},
		{Key: "dcgan.d_hidden", Value: "[]", Source: "the default before 2026-11-26"},
		{Key: "dcgan.ema_decay", Value: "0", Source: "the default before 2026-11-26"},
	},
	// The only architecture before realnvp.arch existed: a checkpoint saved
	// then stays an MLP flow whatever the default becomes.
	"realnvp": {
		{Key: "realnvp.arch", Value: "mlp", Source: "the architecture before realnvp.arch existed"},
	},
	// Samples were unguided unless --guidance asked before the key: the
	// figures measured on older checkpoints stay what their commands give.
	"ddpm": {
		{Key: "ddpm.guidance", Value: "none", Source: "the guidance before ddpm.guidance existed"},
	},
	// One scale for all latents was all there was before the key.
	"ldm": {
		{Key: "ldm.standardize", Value: "global", Source: "the latent scaling before ldm.standardize existed"},
	},
}

// LoadSaved is LoadFrom for a configuration genmodel saved (every key
// resolved): a key of changedDefaults that it lacks takes the value it meant
// when it was written, not today's default.
func LoadSaved(model, source string, body []byte, overrides []Override) (*Config, error) {
	saved, err := fileOverrides(source, body)
	if err != nil {
		return nil, err
	}
	var before []Override
	for _, o := range changedDefaults[model] {
		if !slices.ContainsFunc(saved, func(s Override) bool { return s.Key == o.Key }) {
			before = append(before, o)
		}
	}
	// The old values go first, so the saved keys and the overrides still win.
	return load(model, append(append(before, saved...), overrides...))
}

// LoadSavedFile is LoadSaved of the file at path.
func LoadSavedFile(model, path string, overrides []Override) (*Config, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return LoadSaved(model, path, body, overrides)
}

// LoadFrom is Load with the YAML file's content given as body (nil for none)
// and source naming it in errors (a checkpoint's embedded config, say).
func LoadFrom(model, source string, body []byte, overrides []Override) (*Config, error) {
	var all []Override
	if body != nil {
		var err error
		if all, err = fileOverrides(source, body); err != nil {
			return nil, err
		}
	}
	return load(model, append(all, overrides...))
}

// fileOverrides are the keys a YAML file sets, as overrides from source.
func fileOverrides(source string, body []byte) ([]Override, error) {
	doc, err := parseYAMLMapping(source, body)
	if err != nil {
		return nil, err
	}
	return flatten(doc.Content[0], "", source)
}

// load resolves model's configuration from the embedded defaults and the
// overrides, applied in order.
func load(model string, all []Override) (*Config, error) {
	raw, err := DefaultYAML(model)
	if err != nil {
		return nil, err
	}
	var defaults yaml.Node
	if err := yaml.Unmarshal(raw, &defaults); err != nil {
		return nil, fmt.Errorf("embedded configs/%s.yaml: %w", model, err)
	}
	c := &Config{Model: model, v: viper.New(), defaults: &defaults}
	c.v.SetConfigType("yaml")
	if err := c.v.ReadConfig(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("embedded configs/%s.yaml: %w", model, err)
	}
	schema := defaults.Content[0]
	for _, o := range all {
		val, err := checkOverride(schema, o)
		if err != nil {
			return nil, err
		}
		if o.Key == "model" && val != model {
			return nil, fmt.Errorf("%s: model is %q but this command is for %q; use --model %s or another config file", o.Source, val, model, val)
		}
		c.v.Set(o.Key, val)
	}
	return c, nil
}

// readYAMLFile parses a YAML file whose top level must be a mapping.
func readYAMLFile(path string) (*yaml.Node, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return parseYAMLMapping(path, b)
}

func parseYAMLMapping(path string, b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty config file; run 'genmodel config --model MODEL' for a template", path)
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: a config file is a YAML mapping of keys to values", path)
	}
	return &doc, nil
}

// flatten turns a mapping into one override per leaf, keyed by dotted path.
func flatten(m *yaml.Node, prefix, source string) ([]Override, error) {
	var out []Override
	for i := 0; i+1 < len(m.Content); i += 2 {
		key := prefix + m.Content[i].Value
		val := m.Content[i+1]
		if val.Kind == yaml.MappingNode {
			sub, err := flatten(val, key+".", source)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		text, err := yaml.Marshal(val)
		if err != nil {
			return nil, fmt.Errorf("%s: key %s: %w", source, key, err)
		}
		out = append(out, Override{Key: key, Value: strings.TrimSpace(string(text)), Source: source})
	}
	return out, nil
}

// checkOverride finds o.Key in the schema and parses o.Value with the type of
// its default, returning the typed Go value.
func checkOverride(schema *yaml.Node, o Override) (any, error) {
	node := schema
	parts := strings.Split(o.Key, ".")
	for i, p := range parts {
		next := mappingValue(node, p)
		if next == nil {
			where := strings.Join(parts[:i], ".")
			return nil, fmt.Errorf("%s: unknown key %s; known keys%s: %s", o.Source, o.Key, inSection(where), strings.Join(mappingKeys(node), ", "))
		}
		if next.Kind == yaml.MappingNode && i == len(parts)-1 {
			return nil, fmt.Errorf("%s: key %s is a section; set its keys (%s) instead", o.Source, o.Key, strings.Join(mappingKeys(next), ", "))
		}
		if next.Kind != yaml.MappingNode && i < len(parts)-1 {
			return nil, fmt.Errorf("%s: unknown key %s; %s is not a section", o.Source, o.Key, strings.Join(parts[:i+1], "."))
		}
		node = next
	}
	var given yaml.Node
	if err := yaml.Unmarshal([]byte(o.Value), &given); err != nil {
		return nil, fmt.Errorf("%s: key %s: value %q is not valid YAML", o.Source, o.Key, o.Value)
	}
	if len(given.Content) == 0 {
		return nil, fmt.Errorf("%s: key %s has no value", o.Source, o.Key)
	}
	return typedValue(node, given.Content[0], o)
}

func inSection(section string) string {
	if section == "" {
		return ""
	}
	return " in " + section
}

// typedValue checks that given has the type of def and decodes it.
func typedValue(def, given *yaml.Node, o Override) (any, error) {
	bad := func(want string) error {
		return fmt.Errorf("%s: key %s must be %s, got %q", o.Source, o.Key, want, o.Value)
	}
	switch def.Kind {
	case yaml.SequenceNode:
		if given.Kind != yaml.SequenceNode {
			return nil, bad("a list like " + flowText(def))
		}
		out := make([]any, len(given.Content))
		for i, el := range given.Content {
			if len(def.Content) == 0 {
				var v any
				if err := el.Decode(&v); err != nil {
					return nil, bad("a list")
				}
				out[i] = v
				continue
			}
			v, err := typedValue(def.Content[0], el, o)
			if err != nil {
				return nil, bad("a list like " + flowText(def))
			}
			out[i] = v
		}
		return out, nil
	case yaml.ScalarNode:
		if given.Kind != yaml.ScalarNode {
			return nil, bad(scalarKind(def.Tag))
		}
		switch def.Tag {
		case "!!int":
			var v int
			if given.Tag != "!!int" || given.Decode(&v) != nil {
				return nil, bad("an integer")
			}
			return v, nil
		case "!!float":
			var v float64
			if (given.Tag != "!!int" && given.Tag != "!!float") || given.Decode(&v) != nil {
				return nil, bad("a number")
			}
			if v == 0 {
				// A negative zero would render as "-0", which YAML reads
				// back as the integer 0: store +0 so that the saved
				// configuration resolves to exactly what it records.
				v = 0
			}
			return v, nil
		case "!!bool":
			var v bool
			if given.Tag != "!!bool" || given.Decode(&v) != nil {
				return nil, bad("true or false")
			}
			return v, nil
		default:
			// Strings accept any scalar written plainly (a folder named 2024).
			return given.Value, nil
		}
	}
	return nil, bad("like its default")
}

func scalarKind(tag string) string {
	switch tag {
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "true or false"
	}
	return "a string"
}

func flowText(n *yaml.Node) string {
	parts := make([]string, len(n.Content))
	for i, c := range n.Content {
		parts[i] = c.Value
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func mappingKeys(m *yaml.Node) []string {
	var keys []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		keys = append(keys, m.Content[i].Value)
	}
	return keys
}

// Decode fills out (a struct with mapstructure tags) from a section of the
// configuration ("" for the whole).
//
// It decodes from AllSettings, which merges every layer key by key: viper's
// UnmarshalKey returns only the override layer's part of a section once one
// of its keys has been Set, dropping the defaults beside it.
func (c *Config) Decode(section string, out any) error {
	var in any = c.v.AllSettings()
	if section != "" {
		in = c.v.AllSettings()[section]
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{Result: out, WeaklyTypedInput: true})
	if err == nil {
		err = dec.Decode(in)
	}
	if err != nil {
		return fmt.Errorf("config section %q: %w", section, err)
	}
	return nil
}

// YAML renders the resolved configuration: the embedded default document with
// every value replaced by the resolved one, comments kept.
func (c *Config) YAML() ([]byte, error) {
	var doc yaml.Node
	raw, _ := DefaultYAML(c.Model)
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if err := c.fill(doc.Content[0], ""); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

func (c *Config) fill(m *yaml.Node, prefix string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		key := prefix + m.Content[i].Value
		val := m.Content[i+1]
		if val.Kind == yaml.MappingNode {
			if err := c.fill(val, key+"."); err != nil {
				return err
			}
			continue
		}
		var repl yaml.Node
		if err := repl.Encode(c.v.Get(key)); err != nil {
			return fmt.Errorf("config key %s: %w", key, err)
		}
		repl.LineComment, repl.HeadComment, repl.FootComment = val.LineComment, val.HeadComment, val.FootComment
		if val.Kind == yaml.SequenceNode {
			repl.Style = yaml.FlowStyle
		}
		if val.Style == yaml.DoubleQuotedStyle {
			repl.Style = yaml.DoubleQuotedStyle
		}
		*val = repl
	}
	return nil
}

// Int, Float, String and Bool read one resolved value by dotted key.
func (c *Config) Int(key string) int       { return c.v.GetInt(key) }
func (c *Config) Float(key string) float64 { return c.v.GetFloat64(key) }
func (c *Config) String(key string) string { return c.v.GetString(key) }
func (c *Config) Bool(key string) bool     { return c.v.GetBool(key) }

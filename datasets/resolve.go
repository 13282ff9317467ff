package datasets

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// featureNamesKey is the field metadata key under which WriteArrowIPC stores
// a tensor column's feature names (a JSON array of strings).
const featureNamesKey = "ortbench:feature_names"

// maxTensorWidth bounds a tensor column's width: a corrupt file must not make
// Open build billions of feature names.
const maxTensorWidth = 1 << 20

// selection is the outcome of matching a Spec against a file's schema; all
// indices are schema field indices.
type selection struct {
	names   []string
	width   int
	scalars []int // one field per feature, or nil with a tensor
	tensor  int   // tensor field, or -1
	label   int   // label field, or -1
	order   string
	notes   []string
}

// Feature orders, as Reader.FeatureOrder reports them.
const (
	OrderModel  = "model"  // by the model's stored feature names
	OrderGiven  = "given"  // the features list as written
	OrderFile   = "file"   // the file's column order (the model stores no names)
	OrderTensor = "tensor" // one tensor column, positional
)

// fields returns the schema fields the selection reads, ascending.
func (s selection) fields() []int {
	f := slices.Clone(s.scalars)
	if s.tensor >= 0 {
		f = append(f, s.tensor)
	}
	if s.label >= 0 {
		f = append(f, s.label)
	}
	slices.Sort(f)
	return slices.Compact(f)
}

// pandasIndex reports whether a column is an index pandas wrote beside the
// data (named __index_level_N__, or listed in the schema's "pandas" metadata).
func pandasIndex(sc *arrow.Schema, name string) bool {
	if strings.HasPrefix(name, "__index_level_") && strings.HasSuffix(name, "__") {
		return true
	}
	v, ok := sc.Metadata().GetValue("pandas")
	if !ok {
		return false
	}
	var meta struct {
		IndexColumns []json.RawMessage `json:"index_columns"`
	}
	if json.Unmarshal([]byte(v), &meta) != nil {
		return false
	}
	for _, raw := range meta.IndexColumns {
		var s string
		if json.Unmarshal(raw, &s) == nil && s == name {
			return true
		}
	}
	return false
}

// resolve matches spec against the schema, in phases: the label, then the
// features (a tensor column, the model's names, the file's numeric columns
// or the features list), then the names and the model's order and width.
func resolve(file string, sc *arrow.Schema, spec Spec) (selection, error) {
	m := &matcher{file: file, sc: sc, spec: spec, sel: selection{tensor: -1, label: -1}}
	m.names = make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		m.names[i] = f.Name
	}
	if dup := duplicate(m.names); dup != "" {
		return m.sel, errorf(file, "column %q appears twice: columns are matched by name, rename one", dup)
	}
	if dup := duplicate(spec.ModelFeatures); dup != "" {
		return m.sel, errorf(file, "the model lists feature %q twice in its feature names", dup)
	}
	if err := m.label(); err != nil {
		return m.sel, err
	}
	var err error
	switch tensorCol := m.tensorColumn(); {
	case tensorCol != "":
		return m.tensor(tensorCol)
	case len(spec.Features) == 0 && len(spec.ModelFeatures) > 0:
		err = m.byModel()
	case len(spec.Features) == 0:
		err = m.byFile()
	default:
		err = m.byList()
	}
	if err != nil {
		return m.sel, err
	}
	return m.finish()
}

// matcher is one resolve call's state: the file's schema and column names,
// the spec, and the selection being built.
type matcher struct {
	file  string
	sc    *arrow.Schema
	spec  Spec
	names []string
	sel   selection
}

func (m *matcher) index(name string) int { return slices.Index(m.names, name) }

// label finds the label column: the one named, else "label" if present.
func (m *matcher) label() error {
	spec, sel := m.spec, &m.sel
	switch {
	case spec.NoLabel:
		sel.label = -1
		return nil
	case spec.Label != "":
		sel.label = m.index(spec.Label)
		if sel.label < 0 {
			return errorf(m.file, "label column %q not found (have: %s)", spec.Label, list(m.names))
		}
		if slices.Contains(spec.ModelFeatures, spec.Label) {
			return errorf(m.file, "label column %q is one of the model's features: name the real label column", spec.Label)
		}
	default:
		sel.label = m.index(defaultLabel)
	}
	if sel.label >= 0 {
		if dt := m.sc.Field(sel.label).Type; !isNumeric(dt) {
			return errorf(m.file, "label column %q is %s, want an integer column (class indices)", m.names[sel.label], typeName(dt))
		}
	}
	return nil
}

// excluded says why a column is never a feature unless named: the label, a
// column called "label" when another is the label, a pandas index. ""
// means it may be a feature.
func (m *matcher) excluded(i int) string {
	switch {
	case i == m.sel.label:
		return "the label"
	case m.names[i] == defaultLabel:
		return "a label column (the label is " + strconvQuote(m.spec.Label) + ")"
	case pandasIndex(m.sc, m.names[i]):
		return "a pandas index column"
	}
	return ""
}

// tensorColumn is the tensor column to read: the one named, or in a file
// with no numeric scalar columns and one tensor column (what WriteArrowIPC
// writes) that one, with no setting needed; "" for scalar features.
func (m *matcher) tensorColumn() string {
	if m.spec.TensorColumn != "" || len(m.spec.Features) > 0 {
		return m.spec.TensorColumn
	}
	var scalars, tensors []string
	for i, f := range m.sc.Fields() {
		if fsl, ok := f.Type.(*arrow.FixedSizeListType); ok && isPlainNumeric(fsl.Elem()) {
			tensors = append(tensors, f.Name)
		} else if m.excluded(i) == "" && isNumeric(f.Type) {
			scalars = append(scalars, f.Name)
		}
	}
	if len(scalars) == 0 && len(tensors) == 1 {
		return tensors[0]
	}
	return ""
}

// byModel takes the model's features by name, in the model's order.
func (m *matcher) byModel() error {
	spec, sel := m.spec, &m.sel
	sel.order = OrderModel
	var missing []string
	for _, n := range spec.ModelFeatures {
		i := m.index(n)
		if i < 0 {
			missing = append(missing, n)
			continue
		}
		if dt := m.sc.Field(i).Type; !isNumeric(dt) {
			return errorf(m.file, "column %q is %s (the model takes it as a feature), want a numeric column (int8..int64, uint8..uint64, float16, float32, float64, or a dictionary of them)", n, typeName(dt))
		}
		sel.scalars = append(sel.scalars, i)
	}
	if len(missing) > 0 {
		return errorf(m.file, "the model was trained on %d features and the file lacks %d of them: %s (have: %s)",
			len(spec.ModelFeatures), len(missing), list(missing), list(m.names))
	}
	for i := range m.names {
		if i != sel.label && !slices.Contains(sel.scalars, i) {
			sel.notes = append(sel.notes, skipNote(m.file, m.names[i], "not one of the model's features"))
		}
	}
	return nil
}

// byFile takes every numeric column that is not excluded, in file order.
func (m *matcher) byFile() error {
	sel := &m.sel
	sel.order = OrderFile
	for i, f := range m.sc.Fields() {
		switch why := m.excluded(i); {
		case i == sel.label:
		case why != "":
			sel.notes = append(sel.notes, skipNote(m.file, m.names[i], why))
		case !isNumeric(f.Type):
			sel.notes = append(sel.notes, skipNote(m.file, m.names[i], typeName(f.Type)+", not a number"))
		default:
			sel.scalars = append(sel.scalars, i)
		}
	}
	if len(sel.scalars) == 0 {
		return errorf(m.file, "no numeric feature columns (have: %s): name a tensor_column or convert the features to numbers", list(m.names))
	}
	return nil
}

// byList takes the features list: names as given, patterns expanded.
func (m *matcher) byList() error {
	spec, sel := m.spec, &m.sel
	sel.order = OrderGiven
	globbed := false
	for _, pat := range spec.Features {
		if !isGlob(pat) {
			i := m.index(pat)
			if i < 0 {
				return errorf(m.file, "column %q not found (have: %s)", pat, list(m.names))
			}
			if i == sel.label {
				return errorf(m.file, "column %q is the label and a feature: list it in one place only", pat)
			}
			sel.scalars = append(sel.scalars, i)
			continue
		}
		globbed = true
		matched, err := m.glob(pat)
		if err != nil {
			return err
		}
		sel.scalars = append(sel.scalars, matched...)
	}
	seen := make(map[int]bool, len(sel.scalars))
	for _, i := range sel.scalars {
		if seen[i] {
			return errorf(m.file, "column %q is selected twice by features %q: list each column once", m.names[i], spec.Features)
		}
		seen[i] = true
		if dt := m.sc.Field(i).Type; !isNumeric(dt) {
			return errorf(m.file, "column %q is %s, want a numeric column (int8..int64, uint8..uint64, float16, float32, float64, or a dictionary of them)", m.names[i], typeName(dt))
		}
	}
	switch {
	case len(spec.ModelFeatures) > 0 && globbed:
		sel.order = OrderModel
	case len(spec.ModelFeatures) == 0 && globbed:
		sel.order = OrderFile
	}
	return nil
}

// glob expands one features pattern: the columns it matches that are not
// excluded, in the model's order when the model names its features, else
// in the file's.
func (m *matcher) glob(pat string) ([]int, error) {
	spec := m.spec
	if _, err := path.Match(pat, ""); err != nil {
		return nil, errorf(m.file, "feature pattern %q is malformed (%v): see Go's path.Match syntax", pat, err)
	}
	var matched []int
	for i, name := range m.names {
		if ok, _ := path.Match(pat, name); !ok {
			continue
		}
		if why := m.excluded(i); why != "" {
			if i != m.sel.label {
				m.sel.notes = append(m.sel.notes, skipNote(m.file, name, why+", matched by "+strconvQuote(pat)))
			}
			continue
		}
		matched = append(matched, i)
	}
	if len(matched) == 0 {
		return nil, errorf(m.file, "feature pattern %q matches no column (have: %s)", pat, list(m.names))
	}
	if len(spec.ModelFeatures) > 0 {
		// Expand in the model's order, never the file's.
		for _, i := range matched {
			if !slices.Contains(spec.ModelFeatures, m.names[i]) {
				return nil, errorf(m.file, "column %q (matched by %q) is not one of the model's %d features: narrow the pattern or list the columns",
					m.names[i], pat, len(spec.ModelFeatures))
			}
		}
		slices.SortFunc(matched, func(a, b int) int {
			return slices.Index(spec.ModelFeatures, m.names[a]) - slices.Index(spec.ModelFeatures, m.names[b])
		})
	}
	return matched, nil
}

// finish names the scalar selection and checks it against the model's
// feature names (order) and width.
func (m *matcher) finish() (selection, error) {
	spec, sel := m.spec, &m.sel
	sel.width = len(sel.scalars)
	sel.names = make([]string, len(sel.scalars))
	for j, i := range sel.scalars {
		sel.names[j] = m.names[i]
	}
	if len(spec.ModelFeatures) > 0 && sel.width == len(spec.ModelFeatures) && !slices.Equal(sel.names, spec.ModelFeatures) {
		i := firstDifference(sel.names, spec.ModelFeatures)
		if sameSet(sel.names, spec.ModelFeatures) {
			return *sel, errorf(m.file, "features list the model's columns in another order (position %d is %q, the model has %q): the model's input is positional, so list them in its order or omit features",
				i, sel.names[i], spec.ModelFeatures[i])
		}
		sel.notes = append(sel.notes, fmt.Sprintf("%s: features differ from the model's feature names (position %d is %q, the model has %q)",
			m.file, i, sel.names[i], spec.ModelFeatures[i]))
	}
	if err := checkWidth(m.file, spec, *sel); err != nil {
		return *sel, err
	}
	return *sel, nil
}

// tensor selects one fixed_size_list column.
func (m *matcher) tensor(col string) (selection, error) {
	file, spec, sel := m.file, m.spec, m.sel
	t := m.index(col)
	if t < 0 {
		return sel, errorf(file, "tensor column %q not found (have: %s)", col, list(m.names))
	}
	f := m.sc.Field(t)
	fsl, ok := f.Type.(*arrow.FixedSizeListType)
	if !ok {
		return sel, errorf(file, "tensor column %q is %s, want fixed_size_list<numeric, N> (or list the scalar columns in features)", f.Name, typeName(f.Type))
	}
	if !isPlainNumeric(fsl.Elem()) {
		return sel, errorf(file, "tensor column %q is %s, want a numeric element type", f.Name, typeName(f.Type))
	}
	if fsl.Len() <= 0 || fsl.Len() > maxTensorWidth {
		return sel, errorf(file, "tensor column %q has %d values per row, want 1..%d", f.Name, fsl.Len(), maxTensorWidth)
	}
	sel.tensor, sel.width, sel.order = t, int(fsl.Len()), OrderTensor
	sel.names = tensorNames(f, sel.width)
	if f.Metadata.FindKey(featureNamesKey) >= 0 && len(spec.ModelFeatures) == sel.width && !slices.Equal(sel.names, spec.ModelFeatures) {
		i := firstDifference(sel.names, spec.ModelFeatures)
		return sel, errorf(file, "tensor column %q stores feature %q at position %d where the model has %q: the columns are in another order", f.Name, sel.names[i], i, spec.ModelFeatures[i])
	}
	if spec.ModelWidth > 0 && sel.width != spec.ModelWidth {
		return sel, errorf(file, "tensor column %q has %d values per row but the model takes %d", f.Name, sel.width, spec.ModelWidth)
	}
	return sel, nil
}

// checkWidth compares the selection with the model's input width and names
// what was taken and skipped when they differ.
func checkWidth(file string, spec Spec, sel selection) error {
	if spec.ModelWidth <= 0 || sel.width == spec.ModelWidth {
		return nil
	}
	skipped := "none"
	if len(sel.notes) > 0 {
		var s []string
		for _, n := range sel.notes {
			s = append(s, strings.TrimPrefix(n, file+": "))
		}
		skipped = strings.Join(s, "; ")
	}
	return errorf(file, "gives %d features but the model takes %d (features in %s order): taken: %s; skipped: %s",
		sel.width, spec.ModelWidth, sel.order, list(sel.names), skipped)
}

func skipNote(file, name, why string) string {
	return fmt.Sprintf("%s: column %q skipped: %s", file, name, why)
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

func duplicate(names []string) string {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			return n
		}
		seen[n] = true
	}
	return ""
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// firstDifference returns the first index where a and b differ (they have
// the same length and are not equal).
func firstDifference(a, b []string) int {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

// tensorNames returns the names stored with a tensor column, or "col[i]".
func tensorNames(f arrow.Field, width int) []string {
	if v, ok := f.Metadata.GetValue(featureNamesKey); ok {
		var stored []string
		if json.Unmarshal([]byte(v), &stored) == nil && len(stored) == width {
			return stored
		}
	}
	out := make([]string, width)
	for i := range out {
		out[i] = fmt.Sprintf("%s[%d]", f.Name, i)
	}
	return out
}

func isGlob(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// isNumeric reports whether a column of type dt can be a feature: a number,
// or a dictionary of numbers (decoded as its values).
func isNumeric(dt arrow.DataType) bool {
	if d, ok := dt.(*arrow.DictionaryType); ok {
		return isPlainNumeric(d.ValueType)
	}
	return isPlainNumeric(dt)
}

func isPlainNumeric(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// typeName names a type the way a user thinks of it.
func typeName(dt arrow.DataType) string {
	switch t := dt.(type) {
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		return "string"
	case *arrow.ListType:
		return "list<" + typeName(t.Elem()) + ">"
	case *arrow.LargeListType:
		return "large_list<" + typeName(t.Elem()) + ">"
	case *arrow.FixedSizeListType:
		return fmt.Sprintf("fixed_size_list<%s, %d>", typeName(t.Elem()), t.Len())
	case *arrow.DictionaryType:
		return "dictionary<" + typeName(t.ValueType) + ">"
	}
	return dt.String()
}

// list shortens a column list for an error message.
func list(names []string) string {
	const head = 8
	if len(names) == 0 {
		return "no columns"
	}
	if len(names) <= head+1 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, ... %d more ..., %s", strings.Join(names[:head], ", "), len(names)-head-1, names[len(names)-1])
}

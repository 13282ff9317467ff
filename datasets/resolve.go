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

// resolve matches spec against the schema.
func resolve(file string, sc *arrow.Schema, spec Spec) (selection, error) {
	sel := selection{tensor: -1, label: -1}
	names := make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		names[i] = f.Name
	}
	index := func(name string) int { return slices.Index(names, name) }
	if dup := duplicate(names); dup != "" {
		return sel, errorf(file, "column %q appears twice: columns are matched by name, rename one", dup)
	}
	if dup := duplicate(spec.ModelFeatures); dup != "" {
		return sel, errorf(file, "the model lists feature %q twice in its feature names", dup)
	}

	switch {
	case spec.Label != "":
		sel.label = index(spec.Label)
		if sel.label < 0 {
			return sel, errorf(file, "label column %q not found (have: %s)", spec.Label, list(names))
		}
		if slices.Contains(spec.ModelFeatures, spec.Label) {
			return sel, errorf(file, "label column %q is one of the model's features: name the real label column", spec.Label)
		}
	default:
		sel.label = index(defaultLabel)
	}
	if sel.label >= 0 {
		if dt := sc.Field(sel.label).Type; !isNumeric(dt) {
			return sel, errorf(file, "label column %q is %s, want an integer column (class indices)", names[sel.label], typeName(dt))
		}
	}
	// excluded says why a column is never a feature unless named: the
	// label, a column called "label" when another is the label, a pandas
	// index. "" means it may be a feature.
	excluded := func(i int) string {
		switch {
		case i == sel.label:
			return "the label"
		case names[i] == defaultLabel:
			return "a label column (the label is " + strconvQuote(spec.Label) + ")"
		case pandasIndex(sc, names[i]):
			return "a pandas index column"
		}
		return ""
	}

	tensorCol := spec.TensorColumn
	if tensorCol == "" && len(spec.Features) == 0 {
		// A file with no numeric scalar columns and one tensor column
		// (what WriteArrowIPC writes) needs no tensor_column setting.
		var scalars, tensors []string
		for i, f := range sc.Fields() {
			if fsl, ok := f.Type.(*arrow.FixedSizeListType); ok && isPlainNumeric(fsl.Elem()) {
				tensors = append(tensors, f.Name)
			} else if excluded(i) == "" && isNumeric(f.Type) {
				scalars = append(scalars, f.Name)
			}
		}
		if len(scalars) == 0 && len(tensors) == 1 {
			tensorCol = tensors[0]
		}
	}

	switch {
	case tensorCol != "":
		return resolveTensor(file, sc, spec, sel, tensorCol, names)

	case len(spec.Features) == 0 && len(spec.ModelFeatures) > 0:
		sel.order = OrderModel
		var missing []string
		for _, n := range spec.ModelFeatures {
			i := index(n)
			if i < 0 {
				missing = append(missing, n)
				continue
			}
			if dt := sc.Field(i).Type; !isNumeric(dt) {
				return sel, errorf(file, "column %q is %s (the model takes it as a feature), want a numeric column (int8..int64, uint8..uint64, float16, float32, float64, or a dictionary of them)", n, typeName(dt))
			}
			sel.scalars = append(sel.scalars, i)
		}
		if len(missing) > 0 {
			return sel, errorf(file, "the model was trained on %d features and the file lacks %d of them: %s (have: %s)",
				len(spec.ModelFeatures), len(missing), list(missing), list(names))
		}
		for i := range names {
			if i != sel.label && !slices.Contains(sel.scalars, i) {
				sel.notes = append(sel.notes, skipNote(file, names[i], "not one of the model's features"))
			}
		}

	case len(spec.Features) == 0:
		sel.order = OrderFile
		for i, f := range sc.Fields() {
			switch why := excluded(i); {
			case i == sel.label:
			case why != "":
				sel.notes = append(sel.notes, skipNote(file, names[i], why))
			case !isNumeric(f.Type):
				sel.notes = append(sel.notes, skipNote(file, names[i], typeName(f.Type)+", not a number"))
			default:
				sel.scalars = append(sel.scalars, i)
			}
		}
		if len(sel.scalars) == 0 {
			return sel, errorf(file, "no numeric feature columns (have: %s): name a tensor_column or convert the features to numbers", list(names))
		}

	default:
		sel.order = OrderGiven
		globbed := false
		for _, pat := range spec.Features {
			if !isGlob(pat) {
				i := index(pat)
				if i < 0 {
					return sel, errorf(file, "column %q not found (have: %s)", pat, list(names))
				}
				if i == sel.label {
					return sel, errorf(file, "column %q is the label and a feature: list it in one place only", pat)
				}
				sel.scalars = append(sel.scalars, i)
				continue
			}
			if _, err := path.Match(pat, ""); err != nil {
				return sel, errorf(file, "feature pattern %q is malformed (%v): see Go's path.Match syntax", pat, err)
			}
			globbed = true
			var matched []int
			for i, name := range names {
				if ok, _ := path.Match(pat, name); !ok {
					continue
				}
				if why := excluded(i); why != "" {
					if i != sel.label {
						sel.notes = append(sel.notes, skipNote(file, name, why+", matched by "+strconvQuote(pat)))
					}
					continue
				}
				matched = append(matched, i)
			}
			if len(matched) == 0 {
				return sel, errorf(file, "feature pattern %q matches no column (have: %s)", pat, list(names))
			}
			if len(spec.ModelFeatures) > 0 {
				// Expand in the model's order, never the file's.
				for _, i := range matched {
					if !slices.Contains(spec.ModelFeatures, names[i]) {
						return sel, errorf(file, "column %q (matched by %q) is not one of the model's %d features: narrow the pattern or list the columns",
							names[i], pat, len(spec.ModelFeatures))
					}
				}
				slices.SortFunc(matched, func(a, b int) int {
					return slices.Index(spec.ModelFeatures, names[a]) - slices.Index(spec.ModelFeatures, names[b])
				})
			}
			sel.scalars = append(sel.scalars, matched...)
		}
		seen := make(map[int]bool, len(sel.scalars))
		for _, i := range sel.scalars {
			if seen[i] {
				return sel, errorf(file, "column %q is selected twice by features %q: list each column once", names[i], spec.Features)
			}
			seen[i] = true
			if dt := sc.Field(i).Type; !isNumeric(dt) {
				return sel, errorf(file, "column %q is %s, want a numeric column (int8..int64, uint8..uint64, float16, float32, float64, or a dictionary of them)", names[i], typeName(dt))
			}
		}
		switch {
		case len(spec.ModelFeatures) > 0 && globbed:
			sel.order = OrderModel
		case len(spec.ModelFeatures) == 0 && globbed:
			sel.order = OrderFile
		}
	}
	sel.width = len(sel.scalars)
	sel.names = make([]string, len(sel.scalars))
	for j, i := range sel.scalars {
		sel.names[j] = names[i]
	}
	if len(spec.ModelFeatures) > 0 && sel.width == len(spec.ModelFeatures) && !slices.Equal(sel.names, spec.ModelFeatures) {
		i := firstDifference(sel.names, spec.ModelFeatures)
		if sameSet(sel.names, spec.ModelFeatures) {
			return sel, errorf(file, "features list the model's columns in another order (position %d is %q, the model has %q): the model's input is positional, so list them in its order or omit features",
				i, sel.names[i], spec.ModelFeatures[i])
		}
		sel.notes = append(sel.notes, fmt.Sprintf("%s: features differ from the model's feature names (position %d is %q, the model has %q)",
			file, i, sel.names[i], spec.ModelFeatures[i]))
	}
	if err := checkWidth(file, spec, sel); err != nil {
		return sel, err
	}
	return sel, nil
}

// resolveTensor selects one fixed_size_list column.
func resolveTensor(file string, sc *arrow.Schema, spec Spec, sel selection, col string, names []string) (selection, error) {
	t := slices.Index(names, col)
	if t < 0 {
		return sel, errorf(file, "tensor column %q not found (have: %s)", col, list(names))
	}
	f := sc.Field(t)
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

package gateway_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestNoDiscardedReadErrors keeps the tests honest about what they read:
// a test that reads the store (or a service built on it) and throws the
// error away passes when the read fails, so "no rows" or "count is 0"
// proves nothing. In every *_test.go of the module it finds
//
//	x, _ := st.Alerts(ctx, f)          // an error result assigned to _
//	_ = db.QueryRow(q).Scan(&n)        // Scan, Get or Select whose error is dropped
//	db.QueryRow(q).Scan(&n)            // … or never looked at
//
// where the method is one that gateway/store or subscribers declare with
// an error as the last of several results (their reads, and the writes
// that return what they wrote), or database/sql's and sqlx's Scan, Get and
// Select. Check the error instead (storetest.MustCount counts rows).
//
// The method set is read from the source, so a new store method is
// covered the day it is written. The check is syntactic: a method of
// another type with the same name is held to the same rule, which costs
// an `if err != nil` where it was not strictly needed.
func TestNoDiscardedReadErrors(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above the gateway package: %v", err)
	}
	fallible := map[string]bool{}
	for _, dir := range []string{"gateway/store", "subscribers"} {
		collectFallible(t, filepath.Join(root, dir), fallible)
	}
	if !fallible["ClaimDeliveries"] || !fallible["Alerts"] {
		t.Fatalf("found no store reads in the source (%d methods); the check would pass vacuously", len(fallible))
	}
	for _, name := range []string{"Scan", "Get", "Select"} {
		fallible[name] = true
	}
	writesInto := map[string]bool{"Scan": true, "Get": true, "Select": true} // error is their only result

	var found []string
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkgs := importNames(f)
		methodName := func(e ast.Expr) string { return methodName(e, pkgs) }
		ast.Inspect(f, func(n ast.Node) bool {
			switch s := n.(type) {
			case *ast.AssignStmt:
				if len(s.Rhs) != 1 {
					return true
				}
				name := methodName(s.Rhs[0])
				if name == "" || !fallible[name] {
					return true
				}
				last := s.Lhs[len(s.Lhs)-1]
				if id, ok := last.(*ast.Ident); ok && id.Name == "_" && (len(s.Lhs) > 1 || writesInto[name]) {
					found = append(found, fset.Position(s.Pos()).String()+": the error of "+name+" is assigned to _")
				}
			case *ast.ExprStmt:
				if name := methodName(s.X); writesInto[name] {
					found = append(found, fset.Position(s.Pos()).String()+": the error of "+name+" is not checked")
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(found)
	for _, f := range found {
		t.Error(strings.TrimPrefix(f, root+string(filepath.Separator)))
	}
}

// methodName returns M when e is a method call x.M(…), else "" (also for
// pkg.F(…), a function of an imported package).
func methodName(e ast.Expr, pkgs map[string]bool) string {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if id, ok := sel.X.(*ast.Ident); ok && pkgs[id.Name] {
		return ""
	}
	return sel.Sel.Name
}

// importNames returns the names f's imports are known by: the explicit
// name, else the last element of the path that is not a major version.
func importNames(f *ast.File) map[string]bool {
	names := map[string]bool{}
	for _, imp := range f.Imports {
		if imp.Name != nil {
			names[imp.Name.Name] = true
			continue
		}
		parts := strings.Split(strings.Trim(imp.Path.Value, `"`), "/")
		name := parts[len(parts)-1]
		if len(parts) > 1 && len(name) > 1 && name[0] == 'v' && strings.Trim(name[1:], "0123456789") == "" {
			name = parts[len(parts)-2]
		}
		if i := strings.Index(name, ".v"); i > 0 { // gopkg.in/yaml.v3
			name = name[:i]
		}
		names[name] = true
	}
	return names
}

// collectFallible adds to set the exported methods declared in dir's
// non-test files whose last result, of two or more, is an error.
func collectFallible(t *testing.T, dir string, set map[string]bool) {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() || fn.Type.Results == nil {
				continue
			}
			var results []ast.Expr
			for _, r := range fn.Type.Results.List {
				for range max(1, len(r.Names)) {
					results = append(results, r.Type)
				}
			}
			if id, ok := results[len(results)-1].(*ast.Ident); ok && id.Name == "error" && len(results) >= 2 {
				set[fn.Name.Name] = true
			}
		}
	}
}

package rotation

import "context"

type refKey struct{}

// WithRef returns ctx carrying ref, the reference of the interaction (a
// Teams message or click) on whose behalf the work runs. Every audit
// record written under ctx carries it as Event.Ref, so the reference a
// reply quotes finds its records.
func WithRef(ctx context.Context, ref string) context.Context {
	if ref == "" {
		return ctx
	}
	return context.WithValue(ctx, refKey{}, ref)
}

// RefFrom returns the reference ctx carries, or "".
func RefFrom(ctx context.Context) string {
	ref, _ := ctx.Value(refKey{}).(string)
	return ref
}

package api

// SetStatusFastPath turns the status lookup's own validation and encoding on or off (off: the
// generic path every other route takes), for tests that compare the two.
func (s *Server) SetStatusFastPath(on bool) { s.noStatusFastPath.Store(!on) }

// OperationPath is the contract path validateRequest takes for a gin route, "" when it has none.
func (s *Server) OperationPath(method, ginPath string) string {
	if r, ok := s.operations[method+" "+ginPath]; ok && r.Operation != nil && r.Method == method {
		return r.Path
	}
	return ""
}

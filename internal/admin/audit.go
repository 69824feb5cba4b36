package admin

// auditRoutes lists the console's audit pages (to be written).
func (c *Console) auditRoutes() []route { return nil }

package admin

// groupsRoutes lists the console's groups pages (to be written).
func (c *Console) groupsRoutes() []route { return nil }

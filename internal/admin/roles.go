package admin

// rolesRoutes lists the console's roles pages (to be written).
func (c *Console) rolesRoutes() []route { return nil }

"""Catalogs (danh mục): administrative units with lineage, ethnic groups, religions, departments."""

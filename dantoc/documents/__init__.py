"""The legal-document library (văn bản) and announcements (thông báo): public pages for
citizens, staff screens to keep them."""

Attribute VB_Name = "BrandKit"
' brandkit buttons. One Sub per button on the control sheet; each hands over to Python.
' Keep this file ASCII-only: VBA projects use code page 1252, so Chinese text here would turn
' into "????". Every message to the user comes from Python, written to the control sheet.
Option Explicit

Sub BrandKitValidate()
    RunPython "import toolkit.xl as x; x.validate_inbox()"
End Sub

Sub BrandKitMerge()
    RunPython "import toolkit.xl as x; x.merge_inbox()"
End Sub

Sub BrandKitStamp()
    RunPython "import toolkit.xl as x; x.stamp_selection()"
End Sub

Sub BrandKitSummary()
    RunPython "import toolkit.xl as x; x.make_summary()"
End Sub

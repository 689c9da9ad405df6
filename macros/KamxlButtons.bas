Attribute VB_Name = "KamxlButtons"
' Buttons of a kamxl workbook. Each one runs a function of the kamxl Python
' package through xlwings' RunPython, which the module "xlwings" of this
' workbook defines (xlwings standalone mode: no add-in needed).
' Built into the workbook by kamxl; edit macros/KamxlButtons.bas, not the copy
' inside a workbook.
Option Explicit

' Recompute button of an account workbook: re-checks the plan and refreshes
' its scores.
Public Sub KamxlRecompute()
    RunKamxl "import kamxl.addin; kamxl.addin.recompute()"
End Sub

' Quarterly review button of an account workbook: writes the review deck
' (PowerPoint) beside the workbook, from what the workbook holds now.
Public Sub KamxlQbr()
    RunKamxl "import kamxl.addin; kamxl.addin.qbr()"
End Sub

' Roll-up button of the portfolio summary: re-reads every account workbook.
Public Sub KamxlRollup()
    RunKamxl "import kamxl.addin; kamxl.addin.rollup()"
End Sub

' Runs a Python command through this workbook's RunPython. Application.Run
' finds the macro by name at run time, so a workbook without the xlwings
' module still opens and compiles, and any failure ends in a message that
' says what to do instead of a VBA debugger window.
Private Sub RunKamxl(ByVal PythonCommand As String)
    On Error GoTo Failed
    Application.Run "'" & Replace(ThisWorkbook.Name, "'", "''") & "'!RunPython", PythonCommand
    Exit Sub
Failed:
    MsgBox "kamxl could not run Python through xlwings." & vbNewLine & vbNewLine & _
        "Error " & Err.Number & ": " & Err.Description & vbNewLine & vbNewLine & _
        "Check that Python is installed with the kamxl and xlwings packages, " & _
        "that macros are enabled for this workbook and, " & _
        "on macOS, that ""xlwings runpython install"" has been run once.", _
        vbExclamation, "kamxl"
End Sub

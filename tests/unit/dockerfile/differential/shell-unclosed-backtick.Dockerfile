# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
# PowerShell inside a double-quoted string: its escape (`) opens a command substitution
# that is never closed, so ShellCheck fails and hadolint sees no command in the first RUN
RUN powershell -Command " `
    $f = Get-Item x; `
    $m = ([regex]::Escape($f))` + '$'; `
    Write-Host $m"
RUN powershell -Command "Write-Host done"

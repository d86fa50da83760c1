FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
# the array then a continuation and PowerShell on the next lines: BuildKit runs it all
# as one shell command; hadolint wants the CMD to end after the array
CMD ["powershell.exe", "-NoLogo"] \
	\
	Write-Host ready

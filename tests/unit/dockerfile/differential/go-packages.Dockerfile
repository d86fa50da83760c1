FROM golang:1.22
WORKDIR /src
RUN go run make.go
RUN go install -tags netgo example.com/tool@v1.2.3
RUN go get -d -v ./...
RUN go run ./cmd/gen
RUN go install $GOPATH/src/tool
RUN go install example.com/x@latest && go run gen.go
RUN go build -o /bin/app ./cmd/app && go install
RUN go run -ldflags "-s" main.go arg1 arg2
RUN go install golang.org/x/tools/gopls@v0.14.2

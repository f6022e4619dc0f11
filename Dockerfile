FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci
COPY . .
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/cli.ts", "start"]

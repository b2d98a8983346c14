// 沙箱商城 · 移动版: a single-page app fed by the JSON API (/api/search, /api/item/ID).
// Every seller-written string is put into the page with textContent, never as markup.
"use strict";

(function () {
  const root = document.getElementById("app");

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    return { status: response.status, data: response.ok ? await response.json() : null };
  }

  function card(item) {
    const box = el("div", "card");
    box.dataset.id = item.id;
    const link = el("a", "card-link", item.title);
    link.href = "/spa/item/" + encodeURIComponent(item.id);
    box.appendChild(link);
    box.appendChild(el("span", "card-price", "¥" + item.price));
    box.appendChild(el("span", "card-shop", item.shop.name));
    return box;
  }

  async function search(q) {
    const list = el("div", "results");
    list.id = "results";
    root.appendChild(el("h1", "heading", "“" + q + "”的搜索结果"));
    root.appendChild(list);
    let page = 0;
    let loading = false;
    let more = true;

    async function next() {
      if (loading || !more) return;
      loading = true;
      page += 1;
      const answer = await getJSON("/api/search?q=" + encodeURIComponent(q) + "&page=" + page);
      loading = false;
      if (!answer.data) {
        root.appendChild(el("div", "error", "加载失败（HTTP " + answer.status + "）"));
        more = false;
        return;
      }
      answer.data.items.forEach(function (item) { list.appendChild(card(item)); });
      more = answer.data.has_more;
      if (page === 1 && answer.data.items.length === 0) {
        root.appendChild(el("div", "empty", "没有找到相关商品"));
      } else if (!more) {
        root.appendChild(el("div", "end", "没有更多了"));
      }
    }

    window.addEventListener("scroll", function () {
      if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 200) next();
    });
    await next();
  }

  async function item(id) {
    const answer = await getJSON("/api/item/" + encodeURIComponent(id));
    if (!answer.data) {
      root.appendChild(el("div", answer.status === 404 ? "removed" : "error",
        answer.status === 404 ? "该商品已下架或不存在" : "加载失败（HTTP " + answer.status + "）"));
      return;
    }
    const data = answer.data;
    const article = el("article", "listing");
    article.dataset.id = data.id;
    article.appendChild(el("h1", "title", data.title));
    article.appendChild(el("p", "price", "¥" + data.price));
    const gallery = el("div", "gallery");
    data.images.forEach(function (src) {
      const img = el("img", "gallery-img");
      img.src = src;
      img.alt = "商品图片";
      gallery.appendChild(img);
    });
    article.appendChild(gallery);
    const desc = el("div", "desc");
    data.description.split("\n").forEach(function (para) { desc.appendChild(el("p", "", para)); });
    article.appendChild(desc);
    const seller = el("div", "seller");
    const shop = el("a", "shop-name", data.seller.name);
    shop.href = "/shop/" + encodeURIComponent(data.seller.id);
    seller.appendChild(shop);
    if (data.seller.credit_code) seller.appendChild(el("span", "credit-code", data.seller.credit_code));
    if (data.seller.license_text) seller.appendChild(el("div", "license", data.seller.license_text));
    article.appendChild(seller);
    root.appendChild(article);
  }

  const path = window.location.pathname;
  const params = new URLSearchParams(window.location.search);
  if (path.indexOf("/spa/item/") === 0) {
    item(decodeURIComponent(path.slice("/spa/item/".length)));
  } else if (path.indexOf("/spa/search") === 0) {
    search(params.get("q") || "");
  } else {
    root.appendChild(el("p", "muted", "在上方输入关键词搜索商品。"));
  }
})();

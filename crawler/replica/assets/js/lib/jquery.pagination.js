/*
 * The replica's stand-in for the jquery.pagination plugin that Epoint list pages load
 * (the snapshot does not include the portal's copy).  Same call and options as the plugin
 * (Gabriel Birke's jquery_pagination 2.x, plus Epoint's first_text / last_text / show_total):
 *
 *   $("#pager").pagination(total, {items_per_page, current_page (0-based), num_display_entries,
 *                                  prev_text, next_text, first_text, last_text, show_total,
 *                                  callback(page_index, container)})
 *
 * Markup as the plugin draws it: links are <a href="#">, the current page and disabled
 * prev/next are <span class="current">; a click calls callback(page_index).
 */
(function ($) {
    "use strict";
    $.fn.pagination = function (total, opts) {
        opts = $.extend({
            items_per_page: 10, current_page: 0, num_display_entries: 10, num_edge_entries: 0,
            prev_text: "Prev", next_text: "Next", first_text: "", last_text: "", show_total: false,
            callback: function () { return false; }
        }, opts || {});
        return this.each(function () {
            var $c = $(this);
            var pages = Math.max(1, Math.ceil(total / opts.items_per_page));
            var cur = Math.min(Math.max(0, opts.current_page), pages - 1);

            function link(idx, text, cls) {
                var $a = $('<a href="#"></a>').text(text);
                if (cls) { $a.addClass(cls); }
                $a.on("click", function (e) {
                    e.preventDefault();
                    cur = idx;
                    draw();
                    opts.callback(idx, $c);
                });
                return $a;
            }

            function span(text, cls) {
                return $('<span class="current"></span>').addClass(cls || "").text(text);
            }

            function draw() {
                $c.empty();
                if (opts.show_total) {
                    $c.append($('<span class="total"></span>').text("共" + total + "条"));
                }
                if (opts.first_text) {
                    $c.append(cur > 0 ? link(0, opts.first_text, "first") : span(opts.first_text, "first"));
                }
                $c.append(cur > 0 ? link(cur - 1, opts.prev_text, "prev") : span(opts.prev_text, "prev"));
                var half = Math.ceil(opts.num_display_entries / 2);
                var start = Math.max(0, Math.min(cur - half, pages - opts.num_display_entries));
                var end = Math.min(pages, Math.max(cur + half, opts.num_display_entries));
                for (var i = start; i < end; i++) {
                    $c.append(i === cur ? span(String(i + 1)) : link(i, String(i + 1)));
                }
                $c.append(cur < pages - 1 ? link(cur + 1, opts.next_text, "next") : span(opts.next_text, "next"));
                if (opts.last_text) {
                    $c.append(cur < pages - 1 ? link(pages - 1, opts.last_text, "last") : span(opts.last_text, "last"));
                }
            }

            draw();
        });
    };
}(jQuery));
